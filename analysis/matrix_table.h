#pragma once
#include <string>
#include <vector>

#include "storage/records.h"

namespace pbe {

// The attack x defense table of /matrix rows, as plain text: one block per dataset and model,
// a row per attack and seed, a column per defense holding "ACC / ASR" in percent. An undefined
// ASR (the clean model) prints "-", a failed unit "failed", a unit with no row "missing".
std::string format_matrix_table(const std::vector<MatrixRow>& rows);

}  // namespace pbe
