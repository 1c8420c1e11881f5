#pragma once
// The metric definitions of shared/docs/metrics.md, one each. Inputs and outputs are fractions in
// [0, 1]; NaN in (an undefined ASR, e.g. of a clean model) gives NaN out.

namespace pbe {

// DER = (max(0, ASR_before - ASR_after) - max(0, ACC_before - ACC_after) + 1) / 2.
double defense_effectiveness_rating(double acc_before, double asr_before, double acc_after,
                                    double asr_after);
// RIR = (max(0, RA_after - RA_before) - max(0, ACC_before - ACC_after) + 1) / 2.
double robust_improvement_rating(double acc_before, double ra_before, double acc_after,
                                 double ra_after);

}  // namespace pbe
