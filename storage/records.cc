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

}  // namespace pbe
