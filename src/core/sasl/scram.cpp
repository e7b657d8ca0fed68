#include "core/sasl/scram.hpp"

#include <charconv>
#include <utility>
#include <vector>

#include "core/base/utf8.hpp"
#include "core/sasl/base64.hpp"

namespace iotxmpp {
namespace {

// 18 random bytes: 24 base64 characters, no padding, none of them ','.
constexpr std::size_t nonce_bytes = 18;
constexpr std::size_t fake_salt_bytes = 16;

sasl_failure fail(sasl_condition c, std::string text) { return {c, std::move(text)}; }
sasl_failure malformed(std::string text) {
  return fail(sasl_condition::malformed_request, std::move(text));
}
sasl_failure not_authorized(std::string text) {
  return fail(sasl_condition::not_authorized, std::move(text));
}

// RFC 5802 §7 `printable`: %x21-2B / %x2D-7E (visible ASCII but ',').
bool printable_nonce(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7E || c == ',') return false;
  }
  return true;
}

std::string fresh_nonce() { return base64_encode(random_bytes(nonce_bytes)); }

// `saslname` decoded: "=2C" -> ',', "=3D" -> '='; any other '=' is an
// error, as are NUL, an empty name and bytes that are not UTF-8.
std::optional<std::string> decode_saslname(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\0' || c == ',') return std::nullopt;
    if (c != '=') {
      out += c;
      continue;
    }
    const std::string_view esc = s.substr(i + 1, 2);
    if (esc == "2C") {
      out += ',';
    } else if (esc == "3D") {
      out += '=';
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  if (!utf8::valid(out)) return std::nullopt;
  return out;
}

std::string encode_saslname(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out += c;
    }
  }
  return out;
}

// The parts of `s` between commas (an empty string gives one empty part).
std::vector<std::string_view> split_commas(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
}

// The value of `part` when it is the attribute `name` ("n=value").
std::optional<std::string_view> attribute(std::string_view part, char name) {
  if (part.size() < 2 || part[0] != name || part[1] != '=') return std::nullopt;
  return part.substr(2);
}

// A base64 attribute value: canonical, not empty, and not the SASL "="
// marker for an empty payload (SCRAM's grammar has no such thing).
std::optional<std::string> decode_value(std::string_view v) {
  if (v.empty() || v == "=") return std::nullopt;
  return base64_decode(v);
}

std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a);
  for (std::size_t i = 0; i < out.size() && i < b.size(); ++i) out[i] ^= b[i];
  return out;
}

std::size_t hash_size(scram_hash h) { return h == scram_hash::sha1 ? 20 : 32; }

// A secret for this process only, so fake salts cannot be computed outside
// it (and do not survive a restart, which a real salt would; that is the
// accepted cost of not storing one).
const std::string& fake_salt_secret() {
  static const std::string secret = random_bytes(32);
  return secret;
}

}  // namespace

std::string scram_mechanism(scram_hash h, bool plus) {
  std::string name = "SCRAM-";
  name += hash_name(h);
  if (plus) name += "-PLUS";
  return name;
}

std::optional<scram_mechanism_parts> parse_scram_mechanism(std::string_view name) {
  for (const scram_hash h : {scram_hash::sha1, scram_hash::sha256}) {
    for (const bool plus : {false, true}) {
      if (name == scram_mechanism(h, plus)) return scram_mechanism_parts{h, plus};
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- server

scram_server::scram_server(scram_hash h, bool plus, bool plus_offered, channel_binding binding)
    : hash_(h), plus_(plus), plus_offered_(plus_offered), binding_(std::move(binding)) {}

std::variant<std::string, sasl_failure> scram_server::on_client_first(std::string_view message) {
  if (state_ != state::first) {
    state_ = state::done;
    return not_authorized("client-first-message out of order");
  }
  state_ = state::done;  // until it parses and fits

  // gs2-header = gs2-cbind-flag "," [authzid] ","
  std::size_t pos = 0;
  char flag = 0;
  std::string_view cb_name;
  if (message.starts_with("n,") || message.starts_with("y,")) {
    flag = message[0];
    pos = 2;
  } else if (message.starts_with("p=")) {
    flag = 'p';
    const std::size_t comma = message.find(',', 2);
    if (comma == std::string_view::npos) return malformed("no gs2 header");
    cb_name = message.substr(2, comma - 2);
    if (cb_name.empty()) return malformed("empty channel binding name");
    for (const char c : cb_name) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '-';
      if (!ok) return malformed("bad channel binding name");
    }
    pos = comma + 1;
  } else {
    return malformed("bad channel binding flag");
  }
  std::optional<std::string> authzid;
  {
    const std::size_t comma = message.find(',', pos);
    if (comma == std::string_view::npos) return malformed("no gs2 header");
    const std::string_view part = message.substr(pos, comma - pos);
    if (!part.empty()) {
      const auto a = attribute(part, 'a');
      if (!a) return malformed("bad authzid");
      authzid = decode_saslname(*a);
      if (!authzid) return malformed("bad authzid");
    }
    pos = comma + 1;
  }
  const std::string_view gs2_header = message.substr(0, pos);
  const std::string_view bare = message.substr(pos);

  // client-first-message-bare = "n=" saslname "," "r=" c-nonce; no
  // reserved 'm' and no extensions (none is defined, so none is accepted).
  const auto parts = split_commas(bare);
  if (!parts.empty() && attribute(parts[0], 'm')) return malformed("mandatory extension");
  if (parts.size() != 2) return malformed("client-first-message-bare is not n=,r=");
  const auto n = attribute(parts[0], 'n');
  const auto r = attribute(parts[1], 'r');
  if (!n || !r) return malformed("client-first-message-bare is not n=,r=");
  auto username = decode_saslname(*n);
  if (!username) return malformed("bad username");
  if (!printable_nonce(*r)) return malformed("bad nonce");

  // Channel binding (RFC 5802 §6): -PLUS needs our type; "y" while we
  // offered -PLUS means someone stripped it from the features.
  if (flag == 'p') {
    if (!plus_) return not_authorized("channel binding without -PLUS");
    if (cb_name != binding_.type) return not_authorized("unsupported channel binding type");
  } else if (plus_) {
    return not_authorized("-PLUS without channel binding");
  } else if (flag == 'y' && plus_offered_) {
    return not_authorized("channel binding downgrade");
  }
  if (authzid && *authzid != *username) {
    return fail(sasl_condition::invalid_authzid, "authzid differs from username");
  }

  username_ = std::move(*username);
  gs2_header_ = std::string(gs2_header);
  client_first_bare_ = std::string(bare);
  nonce_ = std::string(*r);
  state_ = state::keys;
  return username_;
}

std::string scram_server::server_first(const std::optional<scram_keys>& keys,
                                       std::optional<std::string> nonce) {
  if (state_ != state::keys) {
    state_ = state::done;
    return {};
  }
  known_user_ = keys.has_value() && keys->hash == hash_;
  if (known_user_) {
    keys_ = *keys;
  } else {
    // Looks like a real account: a salt stable per name, the usual count,
    // keys nobody can match.
    keys_ = scram_keys{};
    keys_.hash = hash_;
    keys_.salt = hmac(hash_, fake_salt_secret(), username_).substr(0, fake_salt_bytes);
    keys_.iterations = default_scram_iterations;
    keys_.stored_key = random_bytes(hash_size(hash_));
    keys_.server_key = random_bytes(hash_size(hash_));
  }
  nonce_ += nonce ? std::move(*nonce) : fresh_nonce();
  server_first_ =
      "r=" + nonce_ + ",s=" + base64_encode(keys_.salt) + ",i=" + std::to_string(keys_.iterations);
  state_ = state::final;
  return server_first_;
}

std::variant<std::string, sasl_failure> scram_server::on_client_final(std::string_view message) {
  if (state_ != state::final) {
    state_ = state::done;
    return not_authorized("client-final-message out of order");
  }
  state_ = state::done;  // one attempt, whatever its outcome

  // client-final-message = "c=" base64 "," "r=" nonce "," "p=" base64
  const auto parts = split_commas(message);
  if (parts.size() != 3) return malformed("client-final-message is not c=,r=,p=");
  const auto c = attribute(parts[0], 'c');
  const auto r = attribute(parts[1], 'r');
  const auto p = attribute(parts[2], 'p');
  if (!c || !r || !p) return malformed("client-final-message is not c=,r=,p=");
  const auto cbind_input = decode_value(*c);
  if (!cbind_input) return malformed("bad base64 in c=");
  const auto proof = decode_value(*p);
  if (!proof) return malformed("bad base64 in p=");
  if (proof->size() != hash_size(hash_)) return malformed("proof of the wrong length");

  if (*r != nonce_) return not_authorized("nonce mismatch");
  const std::string expected_cbind = plus_ ? gs2_header_ + binding_.data : gs2_header_;
  if (!same_bytes(*cbind_input, expected_cbind)) return not_authorized("channel binding mismatch");

  // AuthMessage = client-first-bare "," server-first "," client-final-without-proof
  const std::string_view without_proof = message.substr(0, message.size() - parts[2].size() - 1);
  std::string auth_message = client_first_bare_;
  auth_message += ',';
  auth_message += server_first_;
  auth_message += ',';
  auth_message += without_proof;
  const std::string client_signature = hmac(hash_, keys_.stored_key, auth_message);
  const std::string client_key = xor_bytes(*proof, client_signature);
  const bool good = same_bytes(digest(hash_, client_key), keys_.stored_key);
  if (!good || !known_user_) return not_authorized("bad proof");

  succeeded_ = true;
  return "v=" + base64_encode(hmac(hash_, keys_.server_key, auth_message));
}

// ---------------------------------------------------------------- client

scram_client::scram_client(scram_hash h, std::string username, std::string password,
                           channel_binding binding, bool server_offers_plus, bool could_bind)
    : hash_(h),
      username_(std::move(username)),
      password_(std::move(password)),
      binding_(std::move(binding)),
      server_offers_plus_(server_offers_plus) {
  if (!binding_.type.empty())
    gs2_header_ = "p=" + binding_.type + ",,";
  else
    gs2_header_ = could_bind ? "y,," : "n,,";
}

std::string scram_client::client_first(std::optional<std::string> nonce) {
  nonce_ = nonce ? std::move(*nonce) : fresh_nonce();
  expected_server_signature_.clear();
  client_first_bare_ = "n=" + encode_saslname(username_) + ",r=" + nonce_;
  return gs2_header_ + client_first_bare_;
}

std::variant<std::string, sasl_failure> scram_client::on_server_first(std::string_view message) {
  if (nonce_.empty() || !expected_server_signature_.empty()) {
    return not_authorized("server-first-message out of order");
  }
  // server-first-message = "r=" nonce "," "s=" base64 "," "i=" count
  const auto parts = split_commas(message);
  if (!parts.empty() && attribute(parts[0], 'm')) return malformed("mandatory extension");
  if (parts.size() != 3) return malformed("server-first-message is not r=,s=,i=");
  const auto r = attribute(parts[0], 'r');
  const auto s = attribute(parts[1], 's');
  const auto i = attribute(parts[2], 'i');
  if (!r || !s || !i) return malformed("server-first-message is not r=,s=,i=");
  if (!printable_nonce(*r)) return malformed("bad nonce");
  const auto salt = decode_value(*s);
  if (!salt) return malformed("bad base64 in s=");
  std::uint32_t iterations = 0;
  if (i->empty() || (*i)[0] < '1' || (*i)[0] > '9') return malformed("bad iteration count");
  const auto [end, ec] = std::from_chars(i->data(), i->data() + i->size(), iterations);
  if (ec != std::errc{} || end != i->data() + i->size()) return malformed("bad iteration count");

  if (r->size() <= nonce_.size() || !r->starts_with(nonce_)) {
    return not_authorized("server nonce does not extend ours");
  }
  if (iterations < min_scram_iterations) return not_authorized("too few iterations");

  const std::string cbind_input = binding_.type.empty() ? gs2_header_ : gs2_header_ + binding_.data;
  const std::string without_proof = "c=" + base64_encode(cbind_input) + ",r=" + std::string(*r);
  std::string auth_message = client_first_bare_;
  auth_message += ',';
  auth_message += message;
  auth_message += ',';
  auth_message += without_proof;

  const std::string salted = salted_password(hash_, password_, *salt, iterations);
  const std::string client_key = hmac(hash_, salted, "Client Key");
  const std::string stored_key = digest(hash_, client_key);
  const std::string proof = xor_bytes(client_key, hmac(hash_, stored_key, auth_message));
  const std::string server_key = hmac(hash_, salted, "Server Key");
  expected_server_signature_ = hmac(hash_, server_key, auth_message);
  return without_proof + ",p=" + base64_encode(proof);
}

bool scram_client::verify_server_final(std::string_view message) const {
  if (expected_server_signature_.empty()) return false;
  const auto v = attribute(message, 'v');
  if (!v || v->find(',') != std::string_view::npos) return false;
  const auto signature = decode_value(*v);
  return signature && same_bytes(*signature, expected_server_signature_);
}

}  // namespace iotxmpp
