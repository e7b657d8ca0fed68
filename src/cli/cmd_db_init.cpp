// iotxmpp db-init: creates or migrates the store's schema.

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "cli/db_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/json_output.hpp"
#include "core/store/store.hpp"

namespace iotxmpp::cli {
namespace {

struct db_init_options {
  std::string db = default_db_url;
  bool json = false;
};

int run_db_init(const db_init_options& o) {
  auto url = store_url::parse(o.db);
  if (!url) return report(url.error());
  auto created_db = create_database_if_missing(*url);
  if (!created_db) return report(created_db.error());
  auto db = open_store(*url);
  if (!db) return report(db.error());
  auto migrated = (*db)->migrate();
  if (!migrated) return report(migrated.error());

  const migration_report& m = *migrated;
  std::string where = url->redacted();
  std::string action = m.from_version == 0             ? "created"
                       : m.from_version < m.to_version ? "migrated"
                                                       : "up_to_date";
  if (o.json) {
    json_value j;
    j["database"] = where;
    j["created_database"] = *created_db;
    j["action"] = action;
    j["from_version"] = m.from_version;
    j["to_version"] = m.to_version;
    j["applied"] = m.applied;
    print_json(j);
    return exit_ok;
  }
  if (*created_db) std::printf("created database %s\n", where.c_str());
  if (action == "created")
    std::printf("created schema v%d in %s\n", m.to_version, where.c_str());
  else if (action == "migrated")
    std::printf("migrated v%d -> v%d in %s\n", m.from_version, m.to_version, where.c_str());
  else
    std::printf("schema is up to date (v%d) in %s\n", m.to_version, where.c_str());
  return exit_ok;
}

}  // namespace

runner setup_db_init(CLI::App& sub) {
  auto o = std::make_shared<db_init_options>();
  add_db_option(sub, o->db);
  sub.add_flag("--json", o->json, "Print the result as one JSON object");
  sub.footer(
      "Creates the schema (and, for MySQL, the database) when missing, or applies\n"
      "the migrations it lacks; running it again changes nothing. Safe while a\n"
      "server runs. Exit 3 when the database cannot be reached (refused, access\n"
      "denied, unknown host).");
  return [o] { return run_db_init(*o); };
}

}  // namespace iotxmpp::cli
