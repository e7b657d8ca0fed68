#include "core/store/mysql_error.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "core/store/store_metrics.hpp"

namespace iotxmpp {
namespace {

// MySQL / MariaDB error numbers (mysqld_error.h, errmsg.h) this store tells apart.
enum : int {
  er_dbaccess_denied = 1044,
  er_access_denied = 1045,
  er_bad_db = 1049,
  er_disk_full = 1021,
  er_too_many_connections = 1040,
  er_server_shutdown = 1053,
  er_record_file_full = 1114,
  er_no_such_table = 1146,
  er_too_many_user_connections = 1203,
  er_lock_wait_timeout = 1205,
  er_lock_deadlock = 1213,
  // Galera: the node is not in the primary component or not yet synced
  // (leaving, joining, SST/IST). It accepts connections and refuses
  // statements; another attempt, on a fresh connection, is the cure.
  er_unknown_com_error = 1047,
  er_connection_killed = 1927,
  er_idle_disconnect = 4031,
  cr_connection_error = 2002,
  cr_conn_host_error = 2003,
  cr_unknown_host = 2005,
  cr_server_gone = 2006,
  cr_server_lost = 2013,
  cr_server_lost_extended = 2055,
};

// Why a TCP connection to host:port fails ("connection refused", ...), found
// by trying one: the client library connects without blocking and then
// reports EINPROGRESS (115) instead of the real cause.
std::string tcp_failure_reason(const store_url& url) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(url.port);
  if (getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found) != 0 || !found)
    return "unknown host";
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
  int err = ETIMEDOUT;
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    err = connect(fd, a->ai_addr, a->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      pollfd pfd{fd, POLLOUT, 0};
      err = ETIMEDOUT;
      if (poll(&pfd, 1, 2000) == 1) {
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    close(fd);
    if (err == 0) return "cannot connect";  // reachable now: the server refused us some other way
  }
  switch (err) {
    case ECONNREFUSED:
      return "connection refused";
    case ETIMEDOUT:
      return "connection timed out";
    case EHOSTUNREACH:
    case ENETUNREACH:
      return "host unreachable";
    default:
      return std::string("cannot connect: ") + std::strerror(err);
  }
}

// What went wrong, as a short reason a person can act on, and its kind.
std::pair<error_kind, std::string> classify(const store_url& url, int code, std::string_view what) {
  switch (code) {
    case cr_conn_host_error:
    case cr_connection_error:
      if (what.find("(111)") != std::string_view::npos)
        return {error_kind::connect, "connection refused"};
      if (what.find("(110)") != std::string_view::npos)
        return {error_kind::connect, "connection timed out"};
      return {error_kind::connect, tcp_failure_reason(url)};
    case cr_unknown_host:
      return {error_kind::connect, "unknown host"};
    case er_access_denied:
    case er_dbaccess_denied:
      return {error_kind::connect, "access denied"};
    case er_bad_db:
      return {error_kind::connect, "unknown database"};
    case er_too_many_connections:
    case er_too_many_user_connections:
      return {error_kind::connect, "too many connections"};
    case cr_server_lost:
      if (what.find("initial communication packet") != std::string_view::npos)
        return {error_kind::connect, what.find("error: 110") != std::string_view::npos
                                         ? "connection timed out (host unreachable?)"
                                         : "no answer from the server during the handshake"};
      return {error_kind::connect, "connection lost"};
    case cr_server_gone:
    case cr_server_lost_extended:
    case er_server_shutdown:
    case er_connection_killed:
    case er_idle_disconnect:
      return {error_kind::connect, "connection lost"};
    case er_unknown_com_error:
      return {error_kind::connect, "cluster node not ready (WSREP not synced)"};
    case er_lock_deadlock:
      return {error_kind::timeout, "deadlock (or Galera certification failure)"};
    case er_lock_wait_timeout:
      return {error_kind::timeout, "lock wait timeout"};
    case er_disk_full:
    case er_record_file_full:
      return {error_kind::io, "server disk full"};
    case er_no_such_table:
      return {error_kind::database, "no such table (run 'iotxmpp db-init' first)"};
    case 0:
      // Connector/C++'s own errors, e.g. a statement on a closed connection.
      if (what.find("losed") != std::string_view::npos)
        return {error_kind::connect, "connection lost"};
      return {error_kind::database, "statement failed"};
    default:
      return {error_kind::database, "statement failed"};
  }
}

}  // namespace

error mysql_error(const store_url& url, int code, std::string_view library_text,
                  std::string_view doing) {
  // MySQL never echoes a password, but the text is scrubbed anyway.
  std::string what(library_text);
  if (!url.password.empty())
    for (std::size_t p; (p = what.find(url.password)) != std::string::npos;)
      what.replace(p, url.password.size(), "***");
  if (code == er_lock_deadlock) store_metrics().deadlocks.add();
  auto [kind, reason] = classify(url, code, what);
  std::string msg = std::string(doing) + " " + url.redacted() + ": " + reason;
  // The library's text for a failed TCP connect names a misleading errno
  // (EINPROGRESS); the probed reason says it all.
  bool probed = (code == cr_conn_host_error || code == cr_connection_error) &&
                reason.rfind("cannot connect", 0) != 0;
  if (!what.empty() && !probed) msg += " (" + what + ")";
  return error{kind, std::move(msg)};
}

}  // namespace iotxmpp
