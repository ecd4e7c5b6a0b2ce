// Trains with every C++ exception turned into an error message (see PROVENANCE.md).
#include <cstdlib>
#include <cstring>
#include <exception>

#include "fasttext.h"

extern "C" int pick_fasttext_train(void* model, const void* args, char** err) {
  try {
    static_cast<fasttext::FastText*>(model)->train(
        *static_cast<const fasttext::Args*>(args));
    return 0;
  } catch (const std::exception& e) {
    *err = strdup(e.what());
  } catch (...) {
    *err = strdup("fastText failed with an unknown C++ exception");
  }
  return 1;
}
