#include "cli/report_commands.h"

namespace alexnet::cli {

// Placeholder until the report library lands: no subcommands, no hook.
struct ReportCommands {};

std::shared_ptr<ReportCommands> AddReportCommands(CLI::App* /*app*/) { return std::make_shared<ReportCommands>(); }

bool RunReportCommands(const ReportCommands& /*commands*/, int* /*status*/) { return false; }

train::EpochHook ReportEpochHook() { return nullptr; }

}  // namespace alexnet::cli
