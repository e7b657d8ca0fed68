#pragma once
// Shared pieces of the black-box wire tests (tests/wire/NN_*_test.cpp):
// canned stanzas and a look into the server's store.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "core/base/clock.hpp"
#include "core/sasl/scram_credentials.hpp"
#include "core/store/store.hpp"
#include "support/raw_client.hpp"
#include "support/test_server.hpp"

namespace iotxmpp::test {

// A status report as PROTOCOL.md §3.1 shows it.
inline std::string report(std::string_view id, std::string_view room = "kitchen",
                          std::string_view temperature = "21.5",
                          std::string_view stamp = "2026-11-24T08:00:00+01:00") {
  std::string s = "<message to='iot.local'";
  if (!id.empty()) s += " id='" + std::string(id) + "'";
  s += "><fields xmlns='urn:xmpp:iot:sensordata' seqnr='42' done='true'><node nodeId='" +
       std::string(room) + "'><timestamp value='" + std::string(stamp) +
       "'><numeric name='temperature' value='" + std::string(temperature) +
       "' unit='°C' momentary='true'/><numeric name='humidity' value='40.2' unit='%' "
       "momentary='true'/><numeric name='brightness' value='310' unit='lx' "
       "momentary='true'/></timestamp></node></fields></message>";
  return s;
}

inline std::string ping(std::string_view id) {
  return "<iq type='get' id='" + std::string(id) +
         "' to='iot.local'><ping xmlns='urn:xmpp:ping'/></iq>";
}

// Sends a ping and waits for its answer: the server answers it only once
// everything this session sent before is committed (PROTOCOL.md §3.5), and
// answers with an error when some of it was lost. Fails on no answer and on
// an error answer; call it as ASSERT_TRUE(sync(c)) so that a failure stops
// the test.
[[nodiscard]] inline testing::AssertionResult sync(
    raw_client& c, std::string_view id = "sync",
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  c.send(ping(id));
  const std::string needle = "id='" + std::string(id) + "'";
  std::string got = c.read_until(needle, timeout);
  if (got.empty())
    return testing::AssertionFailure()
           << "no answer to ping '" << id << "' within " << timeout.count() << " ms";
  auto start = got.rfind("<iq");
  if (start == std::string::npos)
    return testing::AssertionFailure() << "the answer to ping '" << id << "' is no iq: " << got;
  std::string answer = got.substr(start) + c.read_until(">", timeout);
  if (answer.size() < 2 || answer[answer.size() - 2] != '/')
    answer += c.read_until("</iq>", timeout);  // an error answer carries <error/>
  if (answer.find("type='result'") == std::string::npos)
    return testing::AssertionFailure() << "ping '" << id << "' answered with: " << answer;
  return testing::AssertionSuccess();
}

// A separate connection to the server's store, for assertions.
inline std::unique_ptr<store> open_test_store(const test_server& s) {
  auto db = open_store(s.store_url());
  if (!db) throw std::runtime_error(db.error().message);
  return std::move(*db);
}

// Provisions the account `name` in the server's store with SCRAM-SHA-1 and
// SCRAM-SHA-256 keys for `password`, as `iotxmpp device add` does.
inline void add_device(const test_server& s, const std::string& name, const std::string& password,
                       std::vector<std::string> rooms, bool disabled = false) {
  account a;
  a.name = name;
  a.disabled = disabled;
  a.created = clock::wall_now();
  a.rooms = std::move(rooms);
  for (auto h : {scram_hash::sha1, scram_hash::sha256}) {
    auto k = new_scram_keys(h, password);
    a.credentials.push_back(
        {std::string(hash_name(h)), k.salt, k.iterations, k.stored_key, k.server_key});
  }
  auto db = open_test_store(s);
  auto added = db->add_accounts({a});
  ASSERT_TRUE(added) << added.error().message;
}

}  // namespace iotxmpp::test
