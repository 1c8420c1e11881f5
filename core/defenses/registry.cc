#include "core/defenses/registry.h"

namespace pbe {

PBE_REGISTER_DEFENSE(NoDefense, NoOptions, "none", "no defense: the model as the attacker left it")

}  // namespace pbe
