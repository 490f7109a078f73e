// Section 5.2: a training epoch with the loading done inline (load, then compute, step after
// step) and with gnm::PrefetchLoader (a loader thread keeps `depth` batches ready), against the
// ideal max(load, compute) and the serial sum load + compute.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace chapter5 {

struct PrefetchRow {
  std::string variant;        // "serial (load, then compute)", "prefetch, depth 4", …
  int depth = 0;              // 0: no loader thread
  int compute_threads = 1;
  double epoch_ms = 0;        // median over the repetitions
  double wait_ms = 0;         // consumer time blocked in next() (prefetch only)
  double hidden = 0;          // (serial − this) / (serial − ideal): share of the load hidden
  bool same_model = true;     // final weights bitwise equal to the serial run's
};

struct PrefetchTable {
  int batches = 0;
  int batch_size = 0;
  double load_ms = 0;         // decoding and augmenting every batch of an epoch, alone
  double compute_ms = 0;      // every training step on ready batches, alone (1 compute thread)
  double ideal_ms = 0;        // max(load, compute)
  double serial_sum_ms = 0;   // load + compute
  std::vector<PrefetchRow> rows;
  bool verified = false;
};

PrefetchTable run_prefetch(bool quick, int threads);
void print(const PrefetchTable& t);
std::string to_json(const PrefetchTable& t);

}  // namespace chapter5
