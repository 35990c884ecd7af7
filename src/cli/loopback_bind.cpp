// Keeps the TensorFlow servers of `alexnet train --local-workers` off the network.
//
// TensorFlow's GrpcServer always listens on every interface ("0.0.0.0:<port>", or "[::]"):
// ServerDef has no bind address. Its gRPC service has no authentication, so a worker started by
// --local-workers (whose peers are all on 127.0.0.1) must not be reachable from other machines.
// This program therefore defines bind() itself, which the dynamic linker prefers over libc's for
// every library of the process: when ALEXNET_LOOPBACK_ONLY is set (the launcher sets it for the
// workers it starts), a wildcard IPv4 address becomes 127.0.0.1 and a wildcard IPv6 bind is
// refused, after which gRPC falls back to IPv4. Any other bind passes through unchanged.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "train/launcher.h"

namespace {

using BindFn = int (*)(int, const sockaddr*, socklen_t);

BindFn RealBind() {
  static BindFn real = reinterpret_cast<BindFn>(::dlsym(RTLD_NEXT, "bind"));
  return real;
}

bool LoopbackOnly() {
  static const bool on = std::getenv(alexnet::train::kLoopbackOnlyEnv) != nullptr;
  return on;
}

}  // namespace

extern "C" int bind(int fd, const sockaddr* addr, socklen_t len) {
  if (LoopbackOnly() && addr) {
    if (addr->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
      sockaddr_in a;
      std::memcpy(&a, addr, sizeof a);
      if (a.sin_addr.s_addr == htonl(INADDR_ANY)) {
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return RealBind()(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
      }
    } else if (addr->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
      sockaddr_in6 a;
      std::memcpy(&a, addr, sizeof a);
      if (IN6_IS_ADDR_UNSPECIFIED(&a.sin6_addr)) {
        errno = EAFNOSUPPORT;
        return -1;
      }
    }
  }
  return RealBind()(fd, addr, len);
}
