#include "storage/matrix_table.h"

namespace pbe::h5 {

Handle matrix_row_type() {
  Handle str = variable_string_type();
  Handle t(H5Tcreate(H5T_COMPOUND, sizeof(MatrixRowC)));
  H5Tinsert(t, "dataset", HOFFSET(MatrixRowC, dataset), str);
  H5Tinsert(t, "model", HOFFSET(MatrixRowC, model), str);
  H5Tinsert(t, "attack", HOFFSET(MatrixRowC, attack), str);
  H5Tinsert(t, "seed", HOFFSET(MatrixRowC, seed), H5T_NATIVE_INT32);
  H5Tinsert(t, "defense", HOFFSET(MatrixRowC, defense), str);
  H5Tinsert(t, "status", HOFFSET(MatrixRowC, status), str);
  H5Tinsert(t, "error", HOFFSET(MatrixRowC, error), str);
  H5Tinsert(t, "acc", HOFFSET(MatrixRowC, acc), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "asr", HOFFSET(MatrixRowC, asr), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "ra", HOFFSET(MatrixRowC, ra), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "der", HOFFSET(MatrixRowC, der), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "rir", HOFFSET(MatrixRowC, rir), H5T_NATIVE_DOUBLE);
  H5Tinsert(t, "asr_denominator", HOFFSET(MatrixRowC, asr_denominator), H5T_NATIVE_INT64);
  H5Tinsert(t, "seconds", HOFFSET(MatrixRowC, seconds), H5T_NATIVE_DOUBLE);
  return t;
}

MatrixRowC to_c(const MatrixRow& r) {
  return {r.dataset.c_str(), r.model.c_str(), r.attack.c_str(), r.seed, r.defense.c_str(),
          r.status.c_str(), r.error.c_str(), r.acc, r.asr, r.ra, r.der, r.rir, r.asr_denominator,
          r.seconds};
}

MatrixRow from_c(const MatrixRowC& c) {
  auto s = [](const char* p) { return std::string(p ? p : ""); };
  MatrixRow r;
  r.dataset = s(c.dataset);
  r.model = s(c.model);
  r.attack = s(c.attack);
  r.seed = c.seed;
  r.defense = s(c.defense);
  r.status = s(c.status);
  r.error = s(c.error);
  r.acc = c.acc;
  r.asr = c.asr;
  r.ra = c.ra;
  r.der = c.der;
  r.rir = c.rir;
  r.asr_denominator = c.asr_denominator;
  r.seconds = c.seconds;
  return r;
}

}  // namespace pbe::h5
