#!/usr/bin/awk -f
# preprocess_variants_summary.awk — the fp32 NCHW kernel time of each variant that
# preprocess_variants.sh ran, per batch, against the built-in knobs (the mean of their first
# and last runs). Input lines: "LABEL batch N: kernel only, fp32 NCHW  img/s  GB/s  %copy  ms".
/ batch [0-9]+: kernel only, fp32 NCHW +[0-9]/ {
  split($0, parts, " batch ")
  label = parts[1]
  batch = parts[2]; sub(/:.*/, "", batch)
  ms = $NF; copy = $(NF - 1)
  if (label ~ /^built-in knobs/) { base[batch] += ms; bases[batch]++; next }
  if (!(label in seen)) { seen[label] = 1; order[++n] = label }
  time[label, batch] = ms; pct[label, batch] = copy
  batches[batch] = 1
}
END {
  for (b in base) batches[b] = 1
  m = 0
  for (b in batches) {  # batch sizes in increasing order (insertion sort: any awk)
    j = ++m
    while (j > 1 && cols[j - 1] + 0 > b + 0) { cols[j] = cols[j - 1]; j-- }
    cols[j] = b
  }
  if (m == 0) { print "no fp32 NCHW kernel timings to summarise"; exit }
  header = sprintf("%-40s", "fp32 NCHW kernel, ms (x built-in's speed)")
  for (j = 1; j <= m; j++) header = header sprintf("  %24s", "batch " cols[j])
  print header
  line = sprintf("%-40s", "built-in knobs (mean of first and last)")
  for (j = 1; j <= m; j++) line = line sprintf("  %24s", cols[j] in base ? sprintf("%.4f", base[cols[j]] / bases[cols[j]]) : "-")
  print line
  for (i = 1; i <= n; i++) {
    line = sprintf("%-40s", order[i])
    for (j = 1; j <= m; j++) {
      b = cols[j]
      if ((order[i], b) in time && b in base && time[order[i], b] > 0)
        cell = sprintf("%.4f (%.3fx, %s%%)", time[order[i], b], base[b] / bases[b] / time[order[i], b], pct[order[i], b])
      else cell = "-"
      line = line sprintf("  %24s", cell)
    }
    print line
  }
}
