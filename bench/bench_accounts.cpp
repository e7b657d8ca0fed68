// iotxmpp_bench_accounts: provisions N device accounts for bench/run's
// TLS+SCRAM scenarios through the store API, as `iotxmpp device add --count`
// will (issue 12): PREFIX0 .. PREFIX<N-1>, one password for all, SCRAM-SHA-256
// keys with a fresh salt each (4096 iterations), and one room grant each,
// the room pattern with "{n}" replaced by the number.
//
//   iotxmpp_bench_accounts --db URL --count N [--prefix dev] [--room-pattern 'r{n}']
//                          --password P
//
// The database must be initialised (db-init). Prints one JSON line.

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "core/base/clock.hpp"
#include "core/sasl/scram_credentials.hpp"
#include "core/store/store.hpp"

int main(int argc, char** argv) {
  using namespace iotxmpp;
  std::string db, prefix = "dev", room_pattern = "r{n}", password;
  std::size_t count = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--db")
      db = v;
    else if (k == "--count")
      count = std::stoul(v);
    else if (k == "--prefix")
      prefix = v;
    else if (k == "--room-pattern")
      room_pattern = v;
    else if (k == "--password")
      password = v;
    else {
      std::cerr << "iotxmpp_bench_accounts: unknown option " << k << '\n';
      return 2;
    }
  }
  if (db.empty() || count == 0 || password.empty()) {
    std::cerr << "usage: iotxmpp_bench_accounts --db URL --count N [--prefix dev]"
                 " [--room-pattern 'r{n}'] --password P\n";
    return 2;
  }
  auto s = open_store(db);
  if (!s) {
    std::cerr << "iotxmpp_bench_accounts: " << s.error().message << '\n';
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<account> accounts(count);
  const auto now = clock::wall_now();
  for (std::size_t n = 0; n < count; ++n) {
    account& a = accounts[n];
    a.name = prefix + std::to_string(n);
    a.created = now;
    scram_keys keys = new_scram_keys(scram_hash::sha256, password);
    a.credentials.push_back({std::string(hash_name(keys.hash)), keys.salt, keys.iterations,
                             keys.stored_key, keys.server_key});
    std::string room = room_pattern;
    if (auto at = room.find("{n}"); at != std::string::npos) room.replace(at, 3, std::to_string(n));
    a.rooms.push_back(room);
  }
  if (auto r = (*s)->add_accounts(accounts); !r) {
    std::cerr << "iotxmpp_bench_accounts: " << r.error().message << '\n';
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "{\"accounts\":" << count << ",\"prefix\":\"" << prefix
            << "\",\"seconds\":" << seconds << "}\n";
  return 0;
}
