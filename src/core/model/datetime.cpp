#include "core/model/datetime.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace iotxmpp {
namespace {

using namespace std::chrono;

constexpr std::string_view shape_reason = "expected CCYY-MM-DDThh:mm:ss[.sss]TZD";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The `n` digits at `pos` as a number, or -1 when any of them is not a digit.
int digits_at(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!is_digit(s[i])) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::string out_of_range(std::string_view what, int value) {
  return std::string(what) + ' ' + std::to_string(value) + " is out of range";
}

// Parses the zone designator, which must be all of `z`. Returns the offset.
result<int> parse_zone(std::string_view z) {
  if (z.empty()) return fail(error_kind::protocol, "missing time zone (Z or +hh:mm or -hh:mm)");
  if (z == "Z") return 0;
  if (z.size() != 6 || (z[0] != '+' && z[0] != '-') || z[3] != ':')
    return fail(error_kind::protocol, "time zone must be Z or +hh:mm or -hh:mm");
  int hours = digits_at(z, 1, 2);
  int minutes = digits_at(z, 4, 2);
  if (hours < 0 || minutes < 0)
    return fail(error_kind::protocol, "time zone must be Z or +hh:mm or -hh:mm");
  if (minutes > 59 || hours * 60 + minutes > 14 * 60)
    return fail(error_kind::protocol,
                "offset " + std::string(z) + " is out of range (at most 14:00 either way)");
  int offset = hours * 60 + minutes;
  return z[0] == '-' ? -offset : offset;
}

}  // namespace

result<local_time> parse_datetime(std::string_view text) {
  // Fixed positions of CCYY-MM-DDThh:mm:ss, then an optional fraction and the zone.
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':')
    return fail(error_kind::protocol, std::string(shape_reason));
  int year = digits_at(text, 0, 4), month = digits_at(text, 5, 2), day = digits_at(text, 8, 2);
  int hour = digits_at(text, 11, 2), minute = digits_at(text, 14, 2),
      second = digits_at(text, 17, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0)
    return fail(error_kind::protocol, std::string(shape_reason));

  if (month < 1 || month > 12) return fail(error_kind::protocol, out_of_range("month", month));
  year_month_day date{std::chrono::year{year}, std::chrono::month{unsigned(month)},
                      std::chrono::day{unsigned(day)}};
  if (!date.ok()) {
    char ym[16];
    std::snprintf(ym, sizeof ym, "%04d-%02d", year, month);
    return fail(error_kind::protocol, "day " + std::to_string(day) + " does not exist in " + ym);
  }
  if (hour > 23) return fail(error_kind::protocol, out_of_range("hour", hour));
  if (minute > 59) return fail(error_kind::protocol, out_of_range("minute", minute));
  if (second > 59) return fail(error_kind::protocol, out_of_range("second", second));

  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t first = pos;
    int kept = 0;
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
      if (kept < 6) {
        micros = micros * 10 + (text[pos] - '0');
        ++kept;
      }
    }
    if (pos == first) return fail(error_kind::protocol, "fraction of a second has no digits");
    for (; kept < 6; ++kept) micros *= 10;
  }
  auto offset = parse_zone(text.substr(pos));
  if (!offset) return std::unexpected(offset.error());

  auto local = sys_days{date} + hours{hour} + minutes{minute} + seconds{second};
  sys_micros utc = local + microseconds{micros} - minutes{*offset};
  return local_time{utc, *offset};
}

std::string format_datetime(const local_time& t) {
  auto local = t.utc + minutes{t.offset_minutes};
  auto day = floor<days>(local);
  year_month_day date{day};
  hh_mm_ss clock{local - day};
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", int(date.year()),
                        unsigned(date.month()), unsigned(date.day()), int(clock.hours().count()),
                        int(clock.minutes().count()), int(clock.seconds().count()));
  std::string out(buf, n);
  if (auto micros = clock.subseconds().count(); micros != 0) {
    std::snprintf(buf, sizeof buf, ".%06d", int(micros));
    std::string_view fraction = buf;
    out += fraction.substr(0, fraction.find_last_not_of('0') + 1);
  }
  if (t.offset_minutes == 0) {
    out += 'Z';
  } else {
    int magnitude = t.offset_minutes < 0 ? -t.offset_minutes : t.offset_minutes;
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", t.offset_minutes < 0 ? '-' : '+', magnitude / 60,
                  magnitude % 60);
    out += buf;
  }
  return out;
}

int local_offset_minutes(sys_micros at) {
  std::time_t secs = static_cast<std::time_t>(floor<seconds>(at).time_since_epoch().count());
  std::tm tm{};
  if (localtime_r(&secs, &tm) == nullptr) return 0;
  return static_cast<int>(tm.tm_gmtoff / 60);
}

int local_minute_of_day(const local_time& t) {
  auto local = t.utc + minutes{t.offset_minutes};
  return static_cast<int>(floor<minutes>(local - floor<days>(local)).count());
}

}  // namespace iotxmpp
