using System.Diagnostics;
using TypedZmq.PayloadFuzzer;

// Usage: TypedZmq.PayloadFuzzer [seed] [seconds of random mutations after the systematic sweep]
// Exits 0 when every payload was either decoded or refused with an RpcException; 1 when anything else escaped. A read
// outside a message hits a guard page and kills the process, which the test that starts it reports.
int seed = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 20261127;
double seconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5;

var watch = Stopwatch.StartNew();
using var fuzzer = new Fuzzer(seed);
fuzzer.RunSystematic();
Console.WriteLine($"systematic: {fuzzer.Summary} in {watch.Elapsed.TotalSeconds:0.0} s");
fuzzer.RunRandom(TimeSpan.FromSeconds(seconds));
Console.WriteLine($"total: {fuzzer.Summary} in {watch.Elapsed.TotalSeconds:0.0} s (seed {seed})");
return fuzzer.Failures == 0 ? 0 : 1;
