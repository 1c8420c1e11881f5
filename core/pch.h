#pragma once
// Shared precompiled header: <torch/torch.h> costs ~15 s per translation unit, so it is compiled
// once for every target that needs it.
#include <torch/torch.h>
