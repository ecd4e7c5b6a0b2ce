// Supervised training by fastText's own code (`fasttext/`, see PROVENANCE.md): one call that
// sets every argument, trains, and writes the `.bin` and `.vec` files, with every C++
// exception turned into an error message instead of escaping through the C boundary.
#include <cstdlib>
#include <cstring>
#include <exception>

#include "fasttext.h"

extern "C" {

// Mirrors `PickSupervised` in `src/train.rs`.
struct PickSupervised {
  const char* input;
  const char* pretrained_vectors;  // NULL for none
  double lr;
  int dim;
  int word_ngrams;
  int min_count;
  int epoch;
  int bucket;
  int minn;
  int maxn;
  int ws;
  int neg;
  int loss;  // fastText's loss_name: 1 hs, 2 ns, 3 softmax, 4 ova
  int thread;
  int seed;
  int verbose;
};

int pick_fasttext_train(const PickSupervised* s, const char* bin, const char* vec, char** err) {
  try {
    fasttext::Args a;
    a.input = s->input;
    a.model = fasttext::model_name::sup;
    a.loss = static_cast<fasttext::loss_name>(s->loss);
    a.lr = s->lr;
    a.dim = s->dim;
    a.wordNgrams = s->word_ngrams;
    a.minCount = s->min_count;
    a.epoch = s->epoch;
    a.bucket = s->bucket;
    a.minn = s->minn;
    a.maxn = s->maxn;
    a.ws = s->ws;
    a.neg = s->neg;
    a.thread = s->thread;
    a.seed = s->seed;
    a.verbose = s->verbose;
    if (s->pretrained_vectors != nullptr) {
      a.pretrainedVectors = s->pretrained_vectors;
    }
    fasttext::FastText model;
    model.train(a);
    model.saveModel(bin);
    model.saveVectors(vec);
    return 0;
  } catch (const std::exception& e) {
    *err = strdup(e.what());
  } catch (...) {
    *err = strdup("fastText failed with an unknown C++ exception");
  }
  return 1;
}

void pick_fasttext_free(char* s) { free(s); }
}
