#include "ctorch.h"
