// Several `serve` nodes over one database (issue 14; docs/scaling.md):
// real servers, in process and as a killed child process, sharing one
// MariaDB database or one SQLite file, with raw clients on each. The feed
// crosses nodes in order within a second and survives a node's restart;
// disco#items and `query devices` list every node's devices with their node;
// the same full JID on two nodes ends the older session with conflict; a
// dead node's devices are marked offline and reaped by the others.

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/server/cluster_sync.hpp"
#include "core/server/registry.hpp"
#include "support/child_process.hpp"
#include "support/process.hpp"
#include "support/scratch_db.hpp"
#include "wire/wire_fixture.hpp"

namespace iotxmpp::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Polls `done` until it holds or `deadline` passes.
template <class F>
bool eventually(F done, std::chrono::milliseconds deadline = 10s) {
  const auto end = steady::now() + deadline;
  while (!done()) {
    if (steady::now() > end) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

void subscribe(raw_client& c, std::string_view room) {
  std::string iq = "<iq type='set' id='sub'><subscribe xmlns='urn:iotxmpp:feed:0'";
  if (!room.empty()) iq += " room='" + std::string(room) + "'";
  c.send(iq + "/></iq>");
  ASSERT_NE(c.read_until("id='sub'").find("type='result'"), std::string::npos);
  c.read_until("/>");
}

std::string disco_items(raw_client& c) {
  c.send("<iq type='get' id='items'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>");
  std::string got = c.read_until("</iq>");
  return got.empty() ? c.read_until("id='items'/>") : got;
}

std::optional<device_row> row_of(const std::string& url, const std::string& jid) {
  auto db = open_store(url);
  if (!db) return std::nullopt;
  auto rows = (*db)->devices(false);
  if (!rows) return std::nullopt;
  for (auto& d : *rows)
    if (d.jid == jid) return d;
  return std::nullopt;
}

bool listening(unsigned short port) {
  return eventually(
      [port] {
        try {
          raw_client probe("127.0.0.1", port);
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      10s);
}

class Nodes : public ::testing::TestWithParam<engine> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<scratch_db>(GetParam(), "nodes18");
    if (!db_->skip_reason().empty()) GTEST_SKIP() << db_->skip_reason();
    ASSERT_EQ(db_->setup_error(), "");
  }
  // A node on the shared database; `more` adjusts its options further.
  std::unique_ptr<test_server> node(const std::string& id,
                                    const std::function<void(server_options&)>& more = {}) {
    return std::make_unique<test_server>([&](server_options& o) {
      o.store_url = db_->url();
      o.config.node_id = id;
      if (more) more(o);
    });
  }
  const std::string& url() const { return db_->url(); }

  std::unique_ptr<scratch_db> db_;
};

TEST_P(Nodes, ASubscriberOnOneNodeGetsAnothersReportsAndPresenceInOrderWithinASecond) {
  auto a = node("node-a");
  auto b = node("node-b");
  raw_client watcher("127.0.0.1", a->port());
  const std::string watcher_jid = watcher.negotiate("w");
  subscribe(watcher, "kitchen");

  raw_client device("127.0.0.1", b->port());
  const std::string device_jid = device.negotiate("d");
  device.send(report("o1", "office"));  // another room: not for this watcher
  constexpr int reports = 20;
  for (int i = 0; i < reports; ++i) device.send(report("k" + std::to_string(i), "kitchen"));
  device.send("<presence><show>away</show><status>back &amp; forth</status></presence>");
  ASSERT_TRUE(sync(device));  // everything above is committed on node-b now
  const auto committed = steady::now();

  std::string got = watcher.read_until("</presence>", 5s);
  const auto took = steady::now() - committed;
  ASSERT_FALSE(got.empty()) << "nothing reached node-a's subscriber: " << watcher.read_some(10ms);
  EXPECT_LT(took, 1s) << "default settings promise under a second";
  EXPECT_EQ(got.find("office"), std::string::npos) << got;
  std::size_t at = 0;
  for (int i = 0; i < reports; ++i) {
    const std::string id = "id='k" + std::to_string(i) + "'";
    std::size_t next = got.find(id, at);
    ASSERT_NE(next, std::string::npos) << id << " missing or out of order in " << got;
    at = next;
  }
  EXPECT_NE(got.find("<message from='" + device_jid + "' to='" + watcher_jid + "'"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find("<numeric name='temperature' value='21.5' unit='°C' momentary='true'/>"),
            std::string::npos)
      << got;
  EXPECT_NE(got.find("nodeId='kitchen'"), std::string::npos) << got;
  EXPECT_NE(got.find("<presence from='" + device_jid + "' to='" + watcher_jid +
                     "'><show>away</show><status>back &amp; forth</status></presence>"),
            std::string::npos)
      << got;
  EXPECT_GE(a->get().cluster().delivered, std::uint64_t(reports + 1));
  // Nothing else comes (each event once).
  EXPECT_EQ(watcher.read_some(400ms), "");
}

TEST_P(Nodes, DiscoItemsAndQueryDevicesOnOneNodeListAnothersDevicesWithRoomAndNode) {
  // Read every 2 s by default; faster here to keep the suite quick.
  auto a = node("node-a", [](server_options& o) { o.config.online_poll = 200ms; });
  auto b = node("node-b");
  raw_client device("127.0.0.1", b->port());
  const std::string device_jid = device.negotiate("lamp");
  device.send(report("k1", "kitchen"));
  ASSERT_TRUE(sync(device));

  raw_client asker("127.0.0.1", a->port());
  const std::string asker_jid = asker.negotiate("asker");
  const std::string remote =
      "<item jid='" + device_jid + "' name='kitchen' cluster:node='node-b'/>";
  std::string got;
  ASSERT_TRUE(eventually([&] {
    got = disco_items(asker);
    return got.find(remote) != std::string::npos;
  })) << got;
  EXPECT_NE(got.find("xmlns:cluster='urn:iotxmpp:cluster:0'"), std::string::npos) << got;
  EXPECT_NE(got.find("<item jid='" + asker_jid + "' cluster:node='node-a'/>"), std::string::npos)
      << got;

  auto r = run_iotxmpp(
      {"query", "devices", "--json", "--server", "127.0.0.1:" + std::to_string(a->port())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  bool found = false;
  for (const auto& d : j["devices"])
    if (d["jid"] == device_jid) {
      found = true;
      EXPECT_EQ(d["node"], "node-b") << r.out;
      EXPECT_EQ(d["room"], "kitchen") << r.out;
    }
  EXPECT_TRUE(found) << r.out;
  r = run_iotxmpp({"query", "devices", "--server", "127.0.0.1:" + std::to_string(a->port())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(device_jid + " room=kitchen node=node-b\n"), std::string::npos) << r.out;

  // Gone from node-b: gone from node-a's list too.
  device.send("</stream:stream>");
  device.read_to_close();
  ASSERT_TRUE(eventually([&] {
    got = disco_items(asker);
    return got.find(device_jid) == std::string::npos;
  })) << got;
}

TEST_P(Nodes, TheSameFullJidOnTwoNodesEndsTheOlderSessionWithConflict) {
  auto a = node("node-a");
  auto b = node("node-b");
  // Both connections from one client port: both are PORT@127.0.0.1/same.
  const unsigned short port = raw_client::free_port();
  auto older = std::make_unique<raw_client>("127.0.0.1", a->port(), port);
  const std::string jid = older->negotiate("same");
  ASSERT_TRUE(sync(*older));  // its bind is committed before the newer one
  raw_client newer("127.0.0.1", b->port(), older->local_port());
  ASSERT_EQ(newer.negotiate("same"), jid);
  const auto bound = steady::now();

  std::string got = older->read_to_close(5s);
  const auto took = steady::now() - bound;
  EXPECT_NE(got.find("<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"), std::string::npos)
      << got;
  EXPECT_NE(got.find("on node node-b"), std::string::npos) << got;
  EXPECT_LT(took, 1s) << "detection: one feed poll (250 ms) after node-b's bind commits";
  EXPECT_EQ(a->get().cluster().conflicts, 1u);
  older.reset();

  // The newer session lives on, and the older one's end left its row alone.
  ASSERT_TRUE(sync(newer));
  EXPECT_FALSE(newer.closed());
  ASSERT_TRUE(eventually([&] { return a->get().online().online().empty(); }));
  a->get().writer().flush();
  auto row = row_of(url(), jid);
  ASSERT_TRUE(row);
  EXPECT_TRUE(row->online);
  EXPECT_EQ(row->node, "node-b");
  EXPECT_EQ(b->get().cluster().conflicts, 0u);
}

TEST_P(Nodes, ADeadNodesDevicesAreMarkedOfflineThenReapedByTheOthers) {
  // node-a notices a silent node within 1.5 s and reaps what is 6 s stale.
  auto a = node("node-a", [](server_options& o) {
    o.config.node_dead_after = 1500ms;
    o.config.heartbeat_every = 200ms;
    o.config.online_poll = 200ms;
    o.config.reap_every = 200ms;
    o.config.stale_after = 6s;
  });
  // The other node is a real `serve` process (its node id: the host name),
  // killed without a chance to end its sessions.
  const unsigned short port = raw_client::free_port();
  child_process serve({"serve", "--db", url(), "--listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(listening(port)) << serve.err();
  raw_client device("127.0.0.1", port);
  const std::string jid = device.negotiate("d");
  device.send(report("k1", "kitchen"));
  ASSERT_TRUE(sync(device));
  std::string other;
  ASSERT_TRUE(eventually([&] {
    for (const auto& d : a->get().online().online_devices())
      if (d.jid == jid) other = d.node;
    return !other.empty();
  })) << "node-a never listed the other node's device";
  EXPECT_NE(other, "node-a");

  serve.signal(SIGKILL);
  ASSERT_TRUE(serve.wait(10s));
  const auto killed = steady::now();
  // Listed no more once the node is silent, and its row marked offline ...
  ASSERT_TRUE(eventually([&] {
    for (const auto& d : a->get().online().online_devices())
      if (d.jid == jid) return false;
    return true;
  }));
  ASSERT_TRUE(eventually([&] {
    auto row = row_of(url(), jid);
    return row && !row->online;
  })) << "the dead node's device stayed online";
  EXPECT_LT(steady::now() - killed, 5s);
  // ... kept until stale (6 s after its report), then removed.
  EXPECT_TRUE(row_of(url(), jid).has_value()) << "reaped before it was stale";
  ASSERT_TRUE(eventually([&] { return !row_of(url(), jid); }, 15s));
  EXPECT_EQ(a->get().reaped(), 1u);
}

TEST_P(Nodes, TwoNodesReapingAtOnceRemoveEachDeviceOnce) {
  auto fast = [](server_options& o) { o.config.reap_every = 20ms; };
  auto a = node("node-a", fast);
  auto b = node("node-b", fast);
  // A node that died an hour ago, leaving 300 devices online: both reapers
  // find them at once.
  constexpr int devices = 300;
  auto db = open_store(url());
  ASSERT_TRUE(db) << db.error().message;
  const sys_micros hour_ago = clock::wall_now() - std::chrono::hours(1);
  ASSERT_TRUE((*db)->heartbeat("node-gone", hour_ago, hour_ago));
  write_batch batch;
  batch.node = "node-gone";
  for (int i = 0; i < devices; ++i) {
    device_touch t{"d" + std::to_string(i) + "@iot.local/x", "hall", hour_ago};
    t.bound_at = hour_ago;
    batch.touches.push_back(std::move(t));
  }
  auto applied = (*db)->apply(batch);
  ASSERT_TRUE(applied) << applied.error().message;
  ASSERT_TRUE(eventually([&] {
    auto rows = (*db)->devices(false);
    return rows && rows->empty();
  }));
  // Each device was removed by exactly one of them.
  EXPECT_EQ(a->get().reaped() + b->get().reaped(), std::uint64_t(devices));
}

TEST_P(Nodes, ARestartedNodeLosesNoFeedEventForAnotherNodesSubscriber) {
  auto a = node("node-a");
  auto b = node("node-b");
  raw_client watcher("127.0.0.1", a->port());
  watcher.negotiate("w");
  subscribe(watcher, "");  // every room

  constexpr int half = 15;
  {
    raw_client device("127.0.0.1", b->port());
    device.negotiate("d1");
    for (int i = 0; i < half; ++i) device.send(report("r" + std::to_string(i), "hall"));
    ASSERT_TRUE(sync(device));
  }
  b->stop();           // at once: node-a may not have read them yet
  b = node("node-b");  // the same node again: its numbers go on
  raw_client device("127.0.0.1", b->port());
  device.negotiate("d2");
  for (int i = half; i < 2 * half; ++i) device.send(report("r" + std::to_string(i), "hall"));
  ASSERT_TRUE(sync(device));

  std::string got = watcher.read_until("id='r" + std::to_string(2 * half - 1) + "'", 5s);
  ASSERT_FALSE(got.empty()) << watcher.read_some(10ms);
  std::size_t at = 0;
  for (int i = 0; i < 2 * half; ++i) {
    const std::string id = "id='r" + std::to_string(i) + "'";
    std::size_t next = got.find(id, at);
    ASSERT_NE(next, std::string::npos) << id << " missing or out of order in " << got;
    EXPECT_EQ(got.find(id, next + 1), std::string::npos) << id << " twice";
    at = next;
  }
  watcher.read_until("</message>");
  EXPECT_EQ(watcher.read_some(400ms).find("<message"), std::string::npos) << "an event came twice";
}

INSTANTIATE_TEST_SUITE_P(Engines, Nodes, ::testing::Values(engine::sqlite, engine::mysql),
                         [](const auto& info) { return engine_name(info.param); });

}  // namespace
}  // namespace iotxmpp::test
