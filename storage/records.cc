#include "storage/records.h"

namespace pbe {

std::string CellKey::group_path() const {
  return "/cells/" + dataset + "/" + model + "/" + attack + "/seed" + std::to_string(seed);
}

std::string to_string(Status status) {
  switch (status) {
    case Status::kDone: return "done";
    case Status::kFailed: return "failed";
  }
  return "unknown";
}

bool parse_status(const std::string& text, Status& status) {
  for (Status s : {Status::kDone, Status::kFailed})
    if (to_string(s) == text) {
      status = s;
      return true;
    }
  return false;
}

std::string to_string(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kKey: return "key";
    case ColumnKind::kOutcome: return "outcome";
    case ColumnKind::kMetric: return "metric";
    case ColumnKind::kDetail: return "detail";
  }
  return "unknown";
}

}  // namespace pbe
