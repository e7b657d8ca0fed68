#include "core/iot/presence.hpp"

#include <utility>

#include "core/model/limits.hpp"

namespace iotxmpp {

result<presence_update> parse_presence_update(pugi::xml_node presence, std::string_view device_jid,
                                              sys_micros at) {
  std::string_view show = presence.child_value("show");
  std::string_view status = presence.child_value("status");
  for (auto [field, text] : {std::pair{"show", show}, std::pair{"status", status}})
    if (auto why = over_limit(field, text, limits::presence_text))
      return fail(error_kind::protocol, std::move(*why), "bad-request");
  presence_update update;
  update.device_jid = device_jid;
  update.online = std::string_view(presence.attribute("type").value()).empty();
  update.show = show;
  update.status = status;
  update.at = at;
  return update;
}

}  // namespace iotxmpp
