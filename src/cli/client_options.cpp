#include "cli/client_options.hpp"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <fstream>

#include "cli/duration_option.hpp"

namespace iotxmpp::cli {
namespace {

constexpr unsigned short xmpp_port = 5222;
constexpr unsigned short direct_tls_port = 5223;  // XEP-0368's usual port

// Whether `path` names a file this process can open for reading.
bool readable(const std::string& path) { return std::ifstream(path).good(); }

// A server that refused the login (SASL failure, refused bind, a stream
// error before bind) means "cannot connect" for the exit status (3), as
// issue 12 asks for wrong credentials; the message and condition stay.
error as_connect_error(error e) {
  if (e.kind == error_kind::remote) e.kind = error_kind::connect;
  return e;
}

}  // namespace

std::shared_ptr<client_flags> add_client_options(CLI::App& sub, const char* timeout_help) {
  auto f = std::make_shared<client_flags>();
  sub.add_option("--server", f->server,
                 "Server address HOST[:PORT], IPv6 as [ADDR]:PORT (default port 5222,\n"
                 "5223 with --tls)")
      ->capture_default_str()
      ->envname("IOTXMPP_SERVER");
  sub.add_option("--domain", f->domain,
                 "The server's XMPP domain (also the name its TLS certificate must have)")
      ->capture_default_str()
      ->envname("IOTXMPP_DOMAIN");
  add_duration_option(sub, "--timeout", f->timeout, timeout_help, zero_duration::refused);
  sub.add_flag("--json", f->json, "Print JSON for scripts instead of text");
  sub.add_option("--user", f->user,
                 "Log in as this device account (SCRAM, or PLAIN over TLS); without it,\n"
                 "anonymously");
  sub.add_option("--password-file", f->password_file,
                 "File whose first line is the --user password (else env IOTXMPP_PASSWORD)");
  sub.add_flag("--tls", f->tls, "TLS from the first byte (XEP-0368) instead of STARTTLS");
  sub.add_option("--tls-ca", f->tls_ca,
                 "PEM file of the CAs that sign the server's certificate (default: the\n"
                 "system's); TLS is then required");
  sub.add_flag("--tls-insecure", f->tls_insecure,
               "Do not verify the server's certificate (labs only)");
  return f;
}

result<std::chrono::milliseconds> timeout_of(const client_flags& flags) {
  // Checked again for flags filled in by code rather than by parsing.
  if (std::string why = duration_problem(flags.timeout, zero_duration::refused); !why.empty())
    return fail(error_kind::usage, "--timeout: " + why);
  return std::chrono::duration_cast<std::chrono::milliseconds>(duration_value(flags.timeout));
}

result<std::string> password_of(const client_flags& flags) {
  if (!flags.password_file.empty()) {
    std::ifstream in(flags.password_file, std::ios::binary);
    if (!in) return fail(error_kind::usage, "--password-file: cannot read " + flags.password_file);
    std::string line;
    std::getline(in, line);
    if (line.ends_with('\r')) line.pop_back();  // a file written on Windows
    if (line.empty())
      return fail(error_kind::usage,
                  "--password-file: the first line of " + flags.password_file + " is empty");
    return line;
  }
  if (const char* env = std::getenv("IOTXMPP_PASSWORD"); env && *env) return std::string(env);
  return fail(error_kind::usage,
              "--user needs a password: give --password-file FILE or set IOTXMPP_PASSWORD");
}

result<client_options> to_client_options(const client_flags& flags) {
  client_options o;
  auto address = server_address::parse(flags.server, flags.tls ? direct_tls_port : xmpp_port);
  if (!address) return fail(error_kind::usage, "--server: " + address.error().message);
  o.server = std::move(*address);
  if (flags.domain.empty()) return fail(error_kind::usage, "--domain: must not be empty");
  o.domain = flags.domain;
  auto timeout = timeout_of(flags);
  if (!timeout) return std::unexpected(timeout.error());
  o.connect_timeout = *timeout;

  if (!flags.user.empty()) {
    auto password = password_of(flags);
    if (!password) return std::unexpected(password.error());
    o.user = flags.user;
    o.password = std::move(*password);
  } else if (!flags.password_file.empty()) {
    return fail(error_kind::usage, "--password-file: give --user too");
  }

  if (flags.tls)
    o.tls = client_options::tls_mode::direct;
  else if (!flags.tls_ca.empty())
    o.tls = client_options::tls_mode::starttls_required;
  if (!flags.tls_ca.empty() && !readable(flags.tls_ca))
    return fail(error_kind::usage, "--tls-ca: cannot read " + flags.tls_ca);
  o.tls_ca = flags.tls_ca;
  o.tls_insecure = flags.tls_insecure;
  return o;
}

result<std::unique_ptr<blocking_client>> connect_client(const client_flags& flags) {
  auto options = to_client_options(flags);
  if (!options) return std::unexpected(options.error());
  auto c = std::make_unique<blocking_client>(std::move(*options));
  if (auto up = c->connect(); !up) return std::unexpected(as_connect_error(up.error()));
  return c;
}

}  // namespace iotxmpp::cli
