#include "support/test_server.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "core/base/log.hpp"

namespace iotxmpp::test {

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/iotxmpp-test-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

test_server::test_server(const std::function<void(server_options&)>& tweak) {
  if (!std::getenv("IOTXMPP_TEST_LOG")) log::set_level(log::level::warn);
  server_options o;
  o.config.listen = {"127.0.0.1:0"};
  o.config.threads = 2;
  // Tests that blast one connection would be slowed by the rate limits;
  // the rate-limit tests turn them on themselves.
  o.config.rates.stanzas_per_second = 0;
  o.config.rates.bytes_per_second = 0;
  o.config.rates.connections_per_second = 0;
  o.store_url = "sqlite:" + dir_.path() + "/test.db";
  if (tweak) tweak(o);
  store_url_ = o.store_url;
  auto s = server::start(std::move(o));
  if (!s) throw std::runtime_error("server did not start: " + s.error().message);
  server_ = std::move(*s);
}

test_server::~test_server() { stop(); }

void test_server::stop() {
  if (stopped_ || !server_) return;
  stopped_ = true;
  server_->stop();
  server_->wait();
}

unsigned short test_server::port(std::size_t listener) const {
  return server_->endpoints().at(listener).second;
}

}  // namespace iotxmpp::test
