// A model session made and initialised for a test, or nullptr after a test failure naming why.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "model/session.h"

namespace alexnet::model {

inline std::unique_ptr<ModelSession> InitializedSession(const SessionConfig& config) {
  auto created = ModelSession::Create(config);
  EXPECT_TRUE(created.ok()) << created.status().message();
  if (!created.ok()) return nullptr;
  std::unique_ptr<ModelSession> m = std::move(created).value();
  const Status st = m->Initialize();
  EXPECT_TRUE(st.ok()) << st.message();
  return st.ok() ? std::move(m) : nullptr;
}

}  // namespace alexnet::model
