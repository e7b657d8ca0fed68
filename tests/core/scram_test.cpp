// SCRAM (scram.hpp): the RFC 5802 and RFC 7677 known answers on both sides,
// client <-> server round trips with and without channel binding, unknown
// users, and the binding checks. Malformed messages: scram_malformed_test.cpp.

#include "core/sasl/scram.hpp"

#include <gtest/gtest.h>

#include <string>

#include "core/sasl/base64.hpp"
#include "support/scram_exchange.hpp"

namespace iotxmpp {
namespace {

using scram_test::attr;
using scram_test::outcome;
using scram_test::run;
using scram_test::stop;

const std::string& ok(const std::variant<std::string, sasl_failure>& r) {
  static const std::string none = "<failure>";
  if (const auto* f = std::get_if<sasl_failure>(&r)) {
    ADD_FAILURE() << "failed: " << to_string(f->condition) << ": " << f->text;
    return none;
  }
  return std::get<std::string>(r);
}

std::optional<sasl_condition> condition(const std::variant<std::string, sasl_failure>& r) {
  if (const auto* f = std::get_if<sasl_failure>(&r)) return f->condition;
  return std::nullopt;
}

// ---------------------------------------------------------------- names

TEST(ScramMechanism, NamesAndTheirParts) {
  EXPECT_EQ(scram_mechanism(scram_hash::sha1, false), "SCRAM-SHA-1");
  EXPECT_EQ(scram_mechanism(scram_hash::sha1, true), "SCRAM-SHA-1-PLUS");
  EXPECT_EQ(scram_mechanism(scram_hash::sha256, false), "SCRAM-SHA-256");
  EXPECT_EQ(scram_mechanism(scram_hash::sha256, true), "SCRAM-SHA-256-PLUS");
  for (const scram_hash h : {scram_hash::sha1, scram_hash::sha256}) {
    for (const bool plus : {false, true}) {
      const auto parts = parse_scram_mechanism(scram_mechanism(h, plus));
      ASSERT_TRUE(parts);
      EXPECT_EQ(parts->hash, h);
      EXPECT_EQ(parts->plus, plus);
    }
  }
}

TEST(ScramMechanism, OtherNamesAreNotScram) {
  for (const char* name : {"", "PLAIN", "SCRAM-SHA-512", "scram-sha-1", "SCRAM-SHA-1-plus",
                           "SCRAM-SHA-256 ", "SCRAM-SHA-1-PLUS-PLUS", "SCRAM-SHA1"}) {
    EXPECT_FALSE(parse_scram_mechanism(name)) << name;
  }
}

// ---------------------------------------------------------------- vectors

struct vector_case {
  scram_hash hash;
  std::string client_nonce;
  std::string server_nonce;  // the part the server adds
  std::string salt_b64;
  std::string client_first;
  std::string server_first;
  std::string client_final;
  std::string server_final;
};

// RFC 5802 §5.
vector_case rfc5802() {
  return {scram_hash::sha1,
          "fyko+d2lbbFgONRv9qkxdawL",
          "3rfcNHYJY1ZVvWVs7j",
          "QSXCR+Q6sek8bf92",
          "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
          "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
          "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
          "v=rmF9pqV8S7suAoZWja4dJRkFsKQ="};
}

// RFC 7677 §3.
vector_case rfc7677() {
  return {scram_hash::sha256,
          "rOprNGfwEbeRWgbNEkqO",
          "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
          "W22ZaJ0SNY7soEsUEjb6gQ==",
          "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
          "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
          "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
          "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
          "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="};
}

void check_client(const vector_case& v) {
  scram_client client(v.hash, "user", "pencil");
  EXPECT_EQ(client.client_first(v.client_nonce), v.client_first);
  EXPECT_EQ(ok(client.on_server_first(v.server_first)), v.client_final);
  EXPECT_TRUE(client.verify_server_final(v.server_final));
  // One character off in the signature, and the server is not believed.
  std::string forged = v.server_final;
  forged[2] = forged[2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(client.verify_server_final(forged));
}

void check_server(const vector_case& v) {
  const scram_keys keys =
      derive_scram_keys(v.hash, "pencil", base64_decode(v.salt_b64).value(), 4096);
  scram_server server(v.hash, false, false, {});
  EXPECT_EQ(ok(server.on_client_first(v.client_first)), "user");
  EXPECT_EQ(server.username(), "user");
  EXPECT_EQ(server.server_first(keys, v.server_nonce), v.server_first);
  EXPECT_FALSE(server.succeeded());
  EXPECT_EQ(ok(server.on_client_final(v.client_final)), v.server_final);
  EXPECT_TRUE(server.succeeded());
}

TEST(ScramVector, Rfc5802Sha1Client) { check_client(rfc5802()); }
TEST(ScramVector, Rfc5802Sha1Server) { check_server(rfc5802()); }
TEST(ScramVector, Rfc7677Sha256Client) { check_client(rfc7677()); }
TEST(ScramVector, Rfc7677Sha256Server) { check_server(rfc7677()); }

TEST(ScramVector, ServerRefusesTheVectorWithAnotherPassword) {
  for (const vector_case& v : {rfc5802(), rfc7677()}) {
    const scram_keys keys =
        derive_scram_keys(v.hash, "pencil2", base64_decode(v.salt_b64).value(), 4096);
    scram_server server(v.hash, false, false, {});
    ok(server.on_client_first(v.client_first));
    EXPECT_EQ(server.server_first(keys, v.server_nonce), v.server_first);
    EXPECT_EQ(condition(server.on_client_final(v.client_final)), sasl_condition::not_authorized);
    EXPECT_FALSE(server.succeeded());
  }
}

// ---------------------------------------------------------------- round trips

const scram_hash both_hashes[] = {scram_hash::sha1, scram_hash::sha256};
const char* const binding_types[] = {"tls-exporter", "tls-server-end-point"};

TEST(ScramRoundTrip, WithoutChannelBinding) {
  for (const scram_hash h : both_hashes) {
    SCOPED_TRACE(hash_name(h));
    const scram_keys keys = new_scram_keys(h, "s3cret pass");
    scram_client client(h, "sensor-1", "s3cret pass");
    scram_server server(h, false, false, {});
    const outcome o = run(client, server, keys);
    ASSERT_EQ(o.stopped_at, stop::none) << to_string(o.condition);
    EXPECT_TRUE(o.client_first.starts_with("n,,n=sensor-1,r="));
    EXPECT_EQ(attr(o.client_final, 'c'), "biws");  // base64("n,,")
    EXPECT_TRUE(o.client_verified);
    EXPECT_TRUE(server.succeeded());
    EXPECT_EQ(server.username(), "sensor-1");
  }
}

TEST(ScramRoundTrip, PlusWithEachBindingType) {
  for (const scram_hash h : both_hashes) {
    for (const char* type : binding_types) {
      SCOPED_TRACE(std::string(hash_name(h)) + " " + type);
      const channel_binding binding{type, std::string("\x01\x02\0\xff binding", 12)};
      const scram_keys keys = new_scram_keys(h, "pw");
      scram_client client(h, "dev", "pw", binding, /*server_offers_plus=*/true);
      scram_server server(h, true, true, binding);
      const outcome o = run(client, server, keys);
      ASSERT_EQ(o.stopped_at, stop::none) << to_string(o.condition);
      const std::string gs2 = "p=" + std::string(type) + ",,";
      EXPECT_TRUE(o.client_first.starts_with(gs2 + "n=dev,r="));
      EXPECT_EQ(attr(o.client_final, 'c'), base64_encode(gs2 + binding.data));
      EXPECT_TRUE(o.client_verified);
      EXPECT_TRUE(server.succeeded());
    }
  }
}

TEST(ScramRoundTrip, GsFlagFollowsBindingAndOffer) {
  const channel_binding binding{"tls-exporter", "data"};
  EXPECT_TRUE(scram_client(scram_hash::sha1, "d", "p").client_first().starts_with("n,,n=d,"));
  EXPECT_TRUE(scram_client(scram_hash::sha1, "d", "p", {}, true).client_first().starts_with("n,,"));
  EXPECT_TRUE(
      scram_client(scram_hash::sha1, "d", "p", binding, false).client_first().starts_with("y,,"));
  EXPECT_TRUE(scram_client(scram_hash::sha1, "d", "p", binding, true)
                  .client_first()
                  .starts_with("p=tls-exporter,,"));
}

TEST(ScramRoundTrip, ClientSaysYWhenTheServerOfferedNoPlus) {
  for (const scram_hash h : both_hashes) {
    SCOPED_TRACE(hash_name(h));
    scram_client supports(h, "dev", "pw", {"tls-exporter", "data"},
                          /*server_offers_plus=*/false);
    scram_server server(h, false, /*plus_offered=*/false, {});
    const outcome o = run(supports, server, new_scram_keys(h, "pw"));
    ASSERT_EQ(o.stopped_at, stop::none) << to_string(o.condition);
    EXPECT_TRUE(o.client_first.starts_with("y,,"));
    EXPECT_EQ(attr(o.client_final, 'c'), "eSws");  // base64("y,,")
    EXPECT_TRUE(o.client_verified);
  }
}

TEST(ScramRoundTrip, ClientWithoutBindingMayUseNonPlusWhenPlusIsOffered) {
  scram_client client(scram_hash::sha256, "dev", "pw", {}, /*server_offers_plus=*/true);
  scram_server server(scram_hash::sha256, false, true, {"tls-exporter", "data"});
  const outcome o = run(client, server, new_scram_keys(scram_hash::sha256, "pw"));
  EXPECT_EQ(o.stopped_at, stop::none) << to_string(o.condition);
  EXPECT_TRUE(server.succeeded());
}

TEST(ScramRoundTrip, UsernameWithCommaAndEqualsIsEscaped) {
  scram_client client(scram_hash::sha256, "a,b=c", "pw");
  scram_server server(scram_hash::sha256, false, false, {});
  const outcome o = run(client, server, new_scram_keys(scram_hash::sha256, "pw"));
  ASSERT_EQ(o.stopped_at, stop::none) << to_string(o.condition);
  EXPECT_TRUE(o.client_first.starts_with("n,,n=a=2Cb=3Dc,r="));
  EXPECT_EQ(server.username(), "a,b=c");
}

TEST(ScramRoundTrip, NoncesAreFreshPrintableAndWithoutCommas) {
  auto check = [](const std::string& nonce) {
    EXPECT_GE(nonce.size(), 24u);  // 18 bytes of base64
    for (const char c : nonce) {
      EXPECT_TRUE(c >= 0x21 && c <= 0x7e && c != ',') << nonce;
    }
  };
  scram_client c1(scram_hash::sha256, "dev", "pw");
  scram_client c2(scram_hash::sha256, "dev", "pw");
  const std::string n1 = attr(c1.client_first(), 'r').value();
  const std::string n2 = attr(c2.client_first(), 'r').value();
  check(n1);
  check(n2);
  EXPECT_NE(n1, n2);

  std::string server_parts[2];
  for (std::string& part : server_parts) {
    scram_server server(scram_hash::sha256, false, false, {});
    ok(server.on_client_first("n,,n=dev,r=abc"));
    const std::string r = attr(server.server_first(std::nullopt), 'r').value();
    ASSERT_TRUE(r.starts_with("abc"));
    part = r.substr(3);
    check(part);
  }
  EXPECT_NE(server_parts[0], server_parts[1]);
}

TEST(ScramRoundTrip, AuthzidEqualToTheUsernameIsAccepted) {
  scram_server server(scram_hash::sha256, false, false, {});
  EXPECT_EQ(ok(server.on_client_first("n,a=a=2Cb,n=a=2Cb,r=xyz")), "a,b");
}

TEST(ScramRoundTrip, AuthzidOfAnotherUserIsInvalidAuthzid) {
  scram_server server(scram_hash::sha256, false, false, {});
  EXPECT_EQ(condition(server.on_client_first("n,a=admin,n=dev,r=xyz")),
            sasl_condition::invalid_authzid);
  EXPECT_EQ(server.username(), "");
}

// ---------------------------------------------------------------- refusals

TEST(ScramRoundTrip, WrongPasswordIsNotAuthorizedAtTheProof) {
  for (const scram_hash h : both_hashes) {
    SCOPED_TRACE(hash_name(h));
    scram_client client(h, "dev", "wrong");
    scram_server server(h, false, false, {});
    const outcome o = run(client, server, new_scram_keys(h, "right"));
    EXPECT_EQ(o.stopped_at, stop::client_final);
    EXPECT_EQ(o.condition, sasl_condition::not_authorized);
    EXPECT_FALSE(server.succeeded());
  }
}

TEST(ScramRoundTrip, UnknownUserIsNotAuthorizedOnlyAtTheProof) {
  for (const scram_hash h : both_hashes) {
    SCOPED_TRACE(hash_name(h));
    scram_client client(h, "ghost", "anything");
    scram_server server(h, false, false, {});
    const outcome o = run(client, server, std::nullopt);
    EXPECT_EQ(o.stopped_at, stop::client_final);  // nothing told before the proof
    EXPECT_EQ(o.condition, sasl_condition::not_authorized);
    EXPECT_EQ(server.username(), "ghost");
    EXPECT_EQ(attr(o.server_first, 'i'), "4096");
    EXPECT_EQ(base64_decode(attr(o.server_first, 's').value()).value().size(), 16u);
    EXPECT_FALSE(server.succeeded());
  }
}

std::string fake_salt(scram_hash h, const std::string& name) {
  scram_server server(h, false, false, {});
  ok(server.on_client_first("n,,n=" + name + ",r=abc"));
  return attr(server.server_first(std::nullopt), 's').value();
}

TEST(ScramRoundTrip, FakeSaltIsStablePerName) {
  for (const scram_hash h : both_hashes) {
    SCOPED_TRACE(hash_name(h));
    const std::string ghost = fake_salt(h, "ghost");
    EXPECT_EQ(fake_salt(h, "ghost"), ghost);
    EXPECT_NE(fake_salt(h, "ghost2"), ghost);
    EXPECT_NE(fake_salt(h, "phantom"), ghost);
  }
}

TEST(ScramRoundTrip, KeysOfAnotherHashAreTreatedAsAnUnknownUser) {
  scram_client client(scram_hash::sha256, "dev", "pw");
  scram_server server(scram_hash::sha256, false, false, {});
  const outcome o = run(client, server, new_scram_keys(scram_hash::sha1, "pw"));
  EXPECT_EQ(o.stopped_at, stop::client_final);
  EXPECT_EQ(o.condition, sasl_condition::not_authorized);
}

TEST(ScramBinding, DifferentBindingDataIsNotAuthorized) {
  for (const scram_hash h : both_hashes) {
    for (const char* type : binding_types) {
      SCOPED_TRACE(std::string(hash_name(h)) + " " + type);
      scram_client client(h, "dev", "pw", {type, "client sees this"}, true);
      scram_server server(h, true, true, {type, "server sees that"});
      const outcome o = run(client, server, new_scram_keys(h, "pw"));
      EXPECT_EQ(o.stopped_at, stop::client_final);
      EXPECT_EQ(o.condition, sasl_condition::not_authorized);
      EXPECT_FALSE(server.succeeded());
    }
  }
}

TEST(ScramBinding, DifferentBindingTypeIsNotAuthorized) {
  scram_client client(scram_hash::sha256, "dev", "pw", {"tls-server-end-point", "data"}, true);
  scram_server server(scram_hash::sha256, true, true, {"tls-exporter", "data"});
  const outcome o = run(client, server, new_scram_keys(scram_hash::sha256, "pw"));
  EXPECT_EQ(o.stopped_at, stop::client_first);
  EXPECT_EQ(o.condition, sasl_condition::not_authorized);
}

TEST(ScramBinding, PlusMechanismWithoutABindingTypeOnTheServerIsNotAuthorized) {
  scram_client client(scram_hash::sha256, "dev", "pw", {"tls-exporter", "data"}, true);
  scram_server server(scram_hash::sha256, true, true, {});
  const outcome o = run(client, server, new_scram_keys(scram_hash::sha256, "pw"));
  EXPECT_EQ(o.stopped_at, stop::client_first);
  EXPECT_EQ(o.condition, sasl_condition::not_authorized);
}

TEST(ScramBinding, PFlagOnANonPlusMechanismIsNotAuthorized) {
  for (const bool offered : {false, true}) {
    SCOPED_TRACE(offered);
    scram_client client(scram_hash::sha256, "dev", "pw", {"tls-exporter", "data"}, true);
    scram_server server(scram_hash::sha256, false, offered, {"tls-exporter", "data"});
    const outcome o = run(client, server, new_scram_keys(scram_hash::sha256, "pw"));
    EXPECT_EQ(o.stopped_at, stop::client_first);
    EXPECT_EQ(o.condition, sasl_condition::not_authorized);
  }
}

TEST(ScramBinding, PlusMechanismWithNOrYIsNotAuthorized) {
  for (const char* message : {"n,,n=dev,r=abc", "y,,n=dev,r=abc"}) {
    SCOPED_TRACE(message);
    scram_server server(scram_hash::sha256, true, true, {"tls-exporter", "data"});
    EXPECT_EQ(condition(server.on_client_first(message)), sasl_condition::not_authorized);
  }
}

TEST(ScramBinding, YWhilePlusWasOfferedIsADowngrade) {
  // -PLUS was stripped from the features the client saw: it has a binding,
  // thinks the server has none, and says "y".
  scram_client client(scram_hash::sha256, "dev", "pw", {"tls-exporter", "d"},
                      /*server_offers_plus=*/false);
  scram_server server(scram_hash::sha256, false, /*plus_offered=*/true, {"tls-exporter", "d"});
  const outcome o = run(client, server, new_scram_keys(scram_hash::sha256, "pw"));
  EXPECT_EQ(o.stopped_at, stop::client_first);
  EXPECT_EQ(o.condition, sasl_condition::not_authorized);
}

TEST(ScramBinding, CbindInputOfAnotherFlagIsNotAuthorized) {
  // The client-first said "n,,"; a final that binds "y,," does not fit.
  scram_server server(scram_hash::sha256, false, false, {});
  ok(server.on_client_first("n,,n=dev,r=abc"));
  const std::string sf = server.server_first(new_scram_keys(scram_hash::sha256, "pw"));
  const std::string nonce = attr(sf, 'r').value();
  const std::string proof = base64_encode(std::string(32, 'x'));
  EXPECT_EQ(condition(server.on_client_final("c=eSws,r=" + nonce + ",p=" + proof)),
            sasl_condition::not_authorized);
}

}  // namespace
}  // namespace iotxmpp
