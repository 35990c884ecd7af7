#include "cli/command.h"

#include <cctype>

namespace alexnet::cli {

namespace {

bool NeedsShellQuotes(const std::string& arg) {
  if (arg.empty()) return true;
  for (char ch : arg) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (!std::isalnum(c) && std::string("-_./:=,+@%").find(ch) == std::string::npos) return true;
  }
  return false;
}

std::string ShellQuote(const std::string& arg) {
  if (!NeedsShellQuotes(arg)) return arg;
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::string ShellCommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (size_t i = 0; i < argv.size(); ++i) line += (i ? " " : "") + ShellQuote(argv[i]);
  return line;
}

}  // namespace alexnet::cli
