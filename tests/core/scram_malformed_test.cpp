// SCRAM (scram.hpp) against messages a clumsy or hostile peer sends: each
// malformed client-first / client-final / server-first / server-final and
// each call out of order, with the condition it must give.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/sasl/base64.hpp"
#include "core/sasl/scram.hpp"
#include "support/scram_exchange.hpp"

namespace iotxmpp {
namespace {

using scram_test::attr;

std::optional<sasl_condition> condition(const std::variant<std::string, sasl_failure>& r) {
  if (const auto* f = std::get_if<sasl_failure>(&r)) return f->condition;
  return std::nullopt;
}

constexpr auto malformed = sasl_condition::malformed_request;
constexpr auto not_authorized = sasl_condition::not_authorized;

// ---------------------------------------------------------------- client-first

struct first_case {
  std::string message;
  sasl_condition expected;
};

TEST(ScramClientFirst, EachMalformedMessageIsRefused) {
  const std::vector<first_case> cases = {
      {"", malformed},
      {"n,,", malformed},                                 // no bare message
      {"n,", malformed},                                  // gs2 header cut short
      {"n", malformed},                                   //
      {"x,,n=user,r=abc", malformed},                     // unknown flag
      {"N,,n=user,r=abc", malformed},                     // flags are lower case
      {"n,n=user,r=abc", malformed},                      // one comma: "n=user" is no authzid
      {"p=,,n=user,r=abc", malformed},                    // empty cb-name
      {"p=tls exporter,,n=user,r=abc", malformed},        // bad cb-name character
      {"p=tls-exporter", malformed},                      // no gs2 header end
      {"n,z=user,n=user,r=abc", malformed},               // not an authzid
      {"n,a=,n=user,r=abc", malformed},                   // empty authzid
      {"n,a=us=4er,n=user,r=abc", malformed},             // bad escape in authzid
      {"n,,r=abc", malformed},                            // missing n=
      {"n,,n=user", malformed},                           // missing r=
      {"n,,n=user,", malformed},                          // empty attribute
      {"n,,r=abc,n=user", malformed},                     // out of order
      {"n,,n=user,n=user,r=abc", malformed},              // repeated
      {"n,,n=user,r=abc,r=abc", malformed},               // repeated
      {"n,,n=user,r=abc,x=1", malformed},                 // extra (extension)
      {"n,,m=ext,n=user,r=abc", malformed},               // mandatory extension
      {"n,,user,r=abc", malformed},                       // no attribute name
      {"n,,N=user,r=abc", malformed},                     // attribute names are lower case
      {"n,,n=,r=abc", malformed},                         // empty username
      {"n,,n=us=er,r=abc", malformed},                    // bad escape
      {"n,,n=us=2cer,r=abc", malformed},                  // escapes are upper case
      {"n,,n=us=2,r=abc", malformed},                     // escape cut short
      {"n,,n=user=,r=abc", malformed},                    // escape cut short at the end
      {"n,,n=us=3Eer,r=abc", malformed},                  // only =2C and =3D
      {"n,,n=\xff\xfe,r=abc", malformed},                 // username not UTF-8
      {std::string("n,,n=us\0er,r=abc", 16), malformed},  // NUL in the username
      {"n,,n=user,r=", malformed},                        // empty nonce
      {"n,,n=user,r=ab c", malformed},                    // space in the nonce
      {"n,,n=user,r=ab\x01", malformed},                  // control character
      {"n,,n=user,r=ab\x7f", malformed},                  // DEL
      {"n,,n=user,r=ab\xc3\xa9", malformed},              // non-ASCII
      {"n,,n=user,r=ab,c", malformed},                    // ',' in the nonce
      {"n,,n=user,r", malformed},                         // r without '='
  };
  for (const first_case& c : cases) {
    SCOPED_TRACE(c.message);
    scram_server server(scram_hash::sha256, false, false, {});
    const auto r = server.on_client_first(c.message);
    EXPECT_EQ(condition(r), c.expected);
    EXPECT_EQ(server.username(), "");
    // The exchange is over: nothing after it gets anywhere.
    EXPECT_EQ(server.server_first(std::nullopt), "");
    EXPECT_EQ(condition(server.on_client_final("c=biws,r=abc,p=" + std::string(44, 'A'))),
              not_authorized);
    EXPECT_FALSE(server.succeeded());
  }
}

TEST(ScramClientFirst, WellFormedEdgesAreAccepted) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"n,,n=user,r=abc", "user"},
      {"y,,n=user,r=abc", "user"},
      {"n,,n==2C=3D,r=abc", ",="},
      {"n,,n=us\xc3\xa9r,r=a", "us\xc3\xa9r"},  // UTF-8 name, 1-character nonce
      {"n,,n=user,r=!+-~\x21\x7e", "user"},     // the ends of printable
      {"n,a=user,n=user,r=abc", "user"},
  };
  for (const auto& [message, user] : cases) {
    SCOPED_TRACE(message);
    scram_server server(scram_hash::sha256, false, false, {});
    const auto r = server.on_client_first(message);
    ASSERT_FALSE(condition(r));
    EXPECT_EQ(std::get<std::string>(r), user);
  }
}

// ---------------------------------------------------------------- client-final

// A server that has sent its server-first-message, the client-final a real
// client answers it with, and its parts.
struct at_final {
  scram_hash hash;
  scram_server server;
  std::string good;
  std::string nonce;
  std::string proof;  // base64
};

at_final make_at_final(scram_hash h = scram_hash::sha256) {
  at_final a{h, scram_server(h, false, false, {}), {}, {}, {}};
  scram_client client(h, "dev", "pw");
  EXPECT_FALSE(condition(a.server.on_client_first(client.client_first())));
  const std::string sf = a.server.server_first(new_scram_keys(h, "pw"));
  a.good = std::get<std::string>(client.on_server_first(sf));
  a.nonce = attr(a.good, 'r').value();
  a.proof = attr(a.good, 'p').value();
  return a;
}

TEST(ScramClientFinal, TheUnchangedMessageSucceeds) {
  for (const scram_hash h : {scram_hash::sha1, scram_hash::sha256}) {
    at_final a = make_at_final(h);
    EXPECT_FALSE(condition(a.server.on_client_final(a.good)));
    EXPECT_TRUE(a.server.succeeded());
  }
}

TEST(ScramClientFinal, EachMalformedMessageIsRefused) {
  const at_final proto = make_at_final();
  const std::string& n = proto.nonce;
  const std::string& p = proto.proof;
  const std::vector<std::string> cases = {
      "",
      "c=biws",
      "c=biws,r=" + n,                                                // no proof
      "r=" + n + ",p=" + p,                                           // no binding
      "c=biws,p=" + p,                                                // no nonce
      "r=" + n + ",c=biws,p=" + p,                                    // out of order
      "c=biws,p=" + p + ",r=" + n,                                    // out of order
      "c=biws,r=" + n + ",p=" + p + ",x=1",                           // extra after the proof
      "c=biws,r=" + n + ",x=1,p=" + p,                                // extension before the proof
      "c=biws,c=biws,r=" + n + ",p=" + p,                             // repeated
      "c=biws,r=" + n + ",r=" + n + ",p=" + p,                        // repeated
      "c=biws,r=" + n + ",p=" + p + ",p=" + p,                        // repeated
      "c=biws,r=" + n + ",p=" + p + ",",                              // trailing comma
      "C=biws,r=" + n + ",p=" + p,                                    // upper-case name
      "c=bi!s,r=" + n + ",p=" + p,                                    // c= outside the alphabet
      "c=biw,r=" + n + ",p=" + p,                                     // c= length
      "c=biws=,r=" + n + ",p=" + p,                                   // c= length
      "c=bi=s,r=" + n + ",p=" + p,                                    // c= padding inside
      "c=,r=" + n + ",p=" + p,                                        // c= empty
      "c==,r=" + n + ",p=" + p,                                       // c= the empty-payload marker
      "c= biws,r=" + n + ",p=" + p,                                   // c= whitespace
      "c=biws,r=" + n + ",p=" + p.substr(1),                          // p= length
      "c=biws,r=" + n + ",p=" + p + "\n",                             // p= whitespace
      "c=biws,r=" + n + ",p=" + std::string(43, 'A') + "-",           // p= url-safe alphabet
      "c=biws,r=" + n + ",p=",                                        // p= empty
      "c=biws,r=" + n + ",p=" + base64_encode(std::string(31, 'x')),  // proof too short
      "c=biws,r=" + n + ",p=" + base64_encode(std::string(33, 'x')),  // proof too long
      "c=biws,r=" + n + ",p=" + base64_encode(std::string(20, 'x')),  // a SHA-1 proof
  };
  for (const std::string& message : cases) {
    SCOPED_TRACE(message);
    at_final a = make_at_final();
    EXPECT_EQ(condition(a.server.on_client_final(message)), malformed);
    EXPECT_FALSE(a.server.succeeded());
  }
}

TEST(ScramClientFinal, ShaOneProofOfTheWrongLengthIsMalformed) {
  at_final a = make_at_final(scram_hash::sha1);
  EXPECT_EQ(condition(a.server.on_client_final("c=biws,r=" + a.nonce +
                                               ",p=" + base64_encode(std::string(32, 'x')))),
            malformed);
}

TEST(ScramClientFinal, NonceOtherThanTheCombinedOneIsNotAuthorized) {
  const at_final proto = make_at_final();
  const std::string& n = proto.nonce;
  std::string last_changed = n;
  last_changed.back() = last_changed.back() == 'A' ? 'B' : 'A';
  const std::vector<std::string> nonces = {
      "",           n.substr(0, n.size() - 1),  n + "x", "x" + n,
      last_changed, n.substr(0, n.size() - 24),  // the client's part only
  };
  for (const std::string& nonce : nonces) {
    SCOPED_TRACE(nonce);
    at_final a = make_at_final();
    const auto r = a.server.on_client_final("c=biws,r=" + nonce + ",p=" + a.proof);
    EXPECT_EQ(condition(r), not_authorized);
    // The proof covers the nonce too; the text shows the nonce check caught it.
    if (const auto* f = std::get_if<sasl_failure>(&r)) EXPECT_EQ(f->text, "nonce mismatch");
    EXPECT_FALSE(a.server.succeeded());
  }
}

TEST(ScramClientFinal, AlteredProofIsNotAuthorized) {
  at_final a = make_at_final();
  std::string proof = base64_decode(a.proof).value();
  proof[0] ^= 1;
  EXPECT_EQ(
      condition(a.server.on_client_final("c=biws,r=" + a.nonce + ",p=" + base64_encode(proof))),
      not_authorized);
}

TEST(ScramClientFinal, AlteredBindingIsNotAuthorized) {
  at_final a = make_at_final();
  // base64("n,,x"): a binding of data where none belongs.
  EXPECT_EQ(condition(a.server.on_client_final("c=" + base64_encode("n,,x") + ",r=" + a.nonce +
                                               ",p=" + a.proof)),
            not_authorized);
}

TEST(ScramClientFinal, SecondCallFailsAfterSuccess) {
  at_final a = make_at_final();
  EXPECT_FALSE(condition(a.server.on_client_final(a.good)));
  EXPECT_EQ(condition(a.server.on_client_final(a.good)), not_authorized);
  EXPECT_TRUE(a.server.succeeded());  // the first verdict stands
}

TEST(ScramClientFinal, GoodMessageAfterAFailureStillFails) {
  at_final a = make_at_final();
  EXPECT_EQ(condition(a.server.on_client_final("c=biws")), malformed);
  EXPECT_EQ(condition(a.server.on_client_final(a.good)), not_authorized);
  EXPECT_FALSE(a.server.succeeded());
}

// ---------------------------------------------------------------- order

TEST(ScramServerOrder, ClientFinalBeforeClientFirst) {
  scram_server server(scram_hash::sha256, false, false, {});
  EXPECT_EQ(condition(server.on_client_final("c=biws,r=abc,p=" + std::string(44, 'A'))),
            not_authorized);
  EXPECT_EQ(condition(server.on_client_first("n,,n=dev,r=abc")), not_authorized);
  EXPECT_EQ(server.server_first(std::nullopt), "");
}

TEST(ScramServerOrder, ClientFinalBeforeServerFirst) {
  scram_server server(scram_hash::sha256, false, false, {});
  ASSERT_FALSE(condition(server.on_client_first("n,,n=dev,r=abc")));
  EXPECT_EQ(condition(server.on_client_final("c=biws,r=abc,p=" + std::string(44, 'A'))),
            not_authorized);
  EXPECT_EQ(server.server_first(std::nullopt), "");
}

TEST(ScramServerOrder, ServerFirstBeforeClientFirst) {
  scram_server server(scram_hash::sha256, false, false, {});
  EXPECT_EQ(server.server_first(new_scram_keys(scram_hash::sha256, "pw")), "");
  EXPECT_EQ(condition(server.on_client_first("n,,n=dev,r=abc")), not_authorized);
}

TEST(ScramServerOrder, ClientFirstTwice) {
  scram_server server(scram_hash::sha256, false, false, {});
  ASSERT_FALSE(condition(server.on_client_first("n,,n=dev,r=abc")));
  EXPECT_EQ(condition(server.on_client_first("n,,n=dev,r=abc")), not_authorized);
  EXPECT_EQ(server.server_first(std::nullopt), "");
}

TEST(ScramServerOrder, ServerFirstTwice) {
  scram_client client(scram_hash::sha256, "dev", "pw");
  scram_server server(scram_hash::sha256, false, false, {});
  const scram_keys keys = new_scram_keys(scram_hash::sha256, "pw");
  ASSERT_FALSE(condition(server.on_client_first(client.client_first())));
  const std::string sf = server.server_first(keys);
  EXPECT_NE(sf, "");
  EXPECT_EQ(server.server_first(keys), "");
  const auto final = client.on_server_first(sf);
  ASSERT_FALSE(condition(final));
  EXPECT_EQ(condition(server.on_client_final(std::get<std::string>(final))), not_authorized);
  EXPECT_FALSE(server.succeeded());
}

// ---------------------------------------------------------------- client side

// A client that has sent "n,,n=dev,r=cnonce".
scram_client started_client() {
  scram_client client(scram_hash::sha256, "dev", "pw");
  client.client_first("cnonce");
  return client;
}

TEST(ScramClientSide, EachMalformedServerFirstIsRefused) {
  const std::string s = "s=" + base64_encode("salt-bytes");
  const std::vector<std::string> cases = {
      "",
      "r=cnonceSRV," + s,                     // no count
      "r=cnonceSRV,i=4096",                   // no salt
      s + ",i=4096",                          // no nonce
      s + ",r=cnonceSRV,i=4096",              // out of order
      "r=cnonceSRV," + s + ",i=4096,x=1",     // extension
      "m=x,r=cnonceSRV," + s + ",i=4096",     // mandatory extension
      "r=cnonceSRV," + s + ",i=4096,",        // trailing comma
      "r=,s=c2FsdA==,i=4096",                 // empty nonce
      "r=cnonce SRV," + s + ",i=4096",        // space in the nonce
      "r=cnonceSRV,s=,i=4096",                // empty salt
      "r=cnonceSRV,s=c2Fsd,i=4096",           // salt not base64
      "r=cnonceSRV," + s + ",i=",             // empty count
      "r=cnonceSRV," + s + ",i=abc",          //
      "r=cnonceSRV," + s + ",i=0",            //
      "r=cnonceSRV," + s + ",i=04096",        // leading zero
      "r=cnonceSRV," + s + ",i=+4096",        //
      "r=cnonceSRV," + s + ",i=-4096",        //
      "r=cnonceSRV," + s + ",i=4096x",        //
      "r=cnonceSRV," + s + ",i=99999999999",  // above 32 bits
  };
  for (const std::string& message : cases) {
    SCOPED_TRACE(message);
    scram_client client = started_client();
    EXPECT_EQ(condition(client.on_server_first(message)), malformed);
  }
}

TEST(ScramClientSide, ServerNonceThatDoesNotExtendOursIsNotAuthorized) {
  const std::string s = ",s=" + base64_encode("salt-bytes") + ",i=4096";
  for (const char* r : {"cnonce", "cnonc", "xcnonceSRV", "Cnonce123", "other"}) {
    SCOPED_TRACE(r);
    scram_client client = started_client();
    EXPECT_EQ(condition(client.on_server_first("r=" + std::string(r) + s)), not_authorized);
  }
}

TEST(ScramClientSide, TooFewIterationsIsNotAuthorized) {
  const std::string s = "r=cnonceSRV,s=" + base64_encode("salt-bytes");
  scram_client client = started_client();
  EXPECT_EQ(condition(client.on_server_first(s + ",i=4095")), not_authorized);
  scram_client again = started_client();
  EXPECT_FALSE(condition(again.on_server_first(s + ",i=4096")));
}

TEST(ScramClientSide, ServerFirstOutOfOrderIsNotAuthorized) {
  const std::string sf = "r=cnonceSRV,s=" + base64_encode("salt-bytes") + ",i=4096";
  scram_client fresh(scram_hash::sha256, "dev", "pw");
  EXPECT_EQ(condition(fresh.on_server_first(sf)), not_authorized);
  scram_client client = started_client();
  ASSERT_FALSE(condition(client.on_server_first(sf)));
  EXPECT_EQ(condition(client.on_server_first(sf)), not_authorized);
}

TEST(ScramClientSide, ServerFinalThatProvesNothingIsRejected) {
  scram_client client(scram_hash::sha256, "dev", "pw");
  scram_server server(scram_hash::sha256, false, false, {});
  EXPECT_FALSE(client.verify_server_final("v=" + base64_encode(std::string(32, 'x'))));
  ASSERT_FALSE(condition(server.on_client_first(client.client_first())));
  const auto final =
      client.on_server_first(server.server_first(new_scram_keys(scram_hash::sha256, "pw")));
  ASSERT_FALSE(condition(final));
  const auto verdict = server.on_client_final(std::get<std::string>(final));
  ASSERT_FALSE(condition(verdict));
  const std::string& good = std::get<std::string>(verdict);
  EXPECT_TRUE(client.verify_server_final(good));
  EXPECT_FALSE(client.verify_server_final(""));
  EXPECT_FALSE(client.verify_server_final("e=invalid-proof"));
  EXPECT_FALSE(client.verify_server_final("v="));
  EXPECT_FALSE(client.verify_server_final("v=" + base64_encode(std::string(32, 'x'))));
  EXPECT_FALSE(client.verify_server_final(good + ",x=1"));
  EXPECT_FALSE(client.verify_server_final(good.substr(0, good.size() - 1)));
  EXPECT_FALSE(client.verify_server_final("V" + good.substr(1)));
}

}  // namespace
}  // namespace iotxmpp
