#include "core/client/unacked_queue.hpp"

#include <algorithm>

namespace iotxmpp {

bool unacked_queue::push(std::string id, std::string stanza) {
  if (full()) return false;
  held_.push_back({next_index_++, std::move(id), std::move(stanza)});
  return true;
}

unacked_queue::batch unacked_queue::unwritten() const {
  batch b;
  b.through = written_through_;
  auto first = std::partition_point(held_.begin(), held_.end(),
                                    [&](const report& r) { return r.index <= written_through_; });
  for (auto it = first; it != held_.end(); ++it) {
    b.bytes += it->stanza;
    ++b.reports;
    if (it->index <= ever_written_through_) ++b.resends;
    b.through = it->index;
  }
  return b;
}

void unacked_queue::written(std::uint64_t through) {
  written_through_ = std::max(written_through_, through);
  ever_written_through_ = std::max(ever_written_through_, through);
}

std::size_t unacked_queue::acknowledge(std::uint64_t through) {
  std::size_t dropped = 0;
  while (!held_.empty() && held_.front().index <= through) {
    held_.pop_front();
    ++dropped;
  }
  return dropped;
}

bool unacked_queue::refuse(std::string_view id) {
  auto it = std::find_if(held_.begin(), held_.end(), [&](const report& r) { return r.id == id; });
  if (it == held_.end()) return false;
  held_.erase(it);
  return true;
}

}  // namespace iotxmpp
