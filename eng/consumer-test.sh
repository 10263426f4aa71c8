#!/usr/bin/env bash
# The consumer path, end to end, the way a user outside this repository meets the packages:
#   1. `dotnet pack` of the solution into a local folder feed (must yield exactly the 4 library packages + symbols);
#   2. in a fresh folder outside the repository, with an empty NuGet package cache (NUGET_PACKAGES) and a NuGet.config
#      listing that feed + the repository's own package source(s):
#      a. an app with ML.DeepExtensions.Text only (ML.DeepExtensions comes transitively) and no libtorch backend
#         must fail to build with the package's MLDX001 error naming the backend package to add;
#      b. `dotnet new console` + `dotnet add package ML.DeepExtensions` + `dotnet add package libtorch-cpu-linux-x64`,
#         with README.md's Program.cs (trains a tiny network on 200 rows, saves, loads in the same process, predicts);
#         `dotnet run` must print its "OK: ..." line;
#      c. the libLibTorchSharp.so in the build and publish outputs must load on this system (ldd, dlopen), the copy
#         in the package cache must be untouched, and a second build must change nothing; the built and the published
#         app must both report the scalar quarantine (TorchRuntime.ScalarQuarantineState) active;
#      c2. the same app, its Program.cs swapped for one that trains with TrainerOptions.Precision = MixedBFloat16
#         (libtorch's autocast entry points, resolved from the app's own libtorch), must print its "OK: ..." line;
#      d. a second app with only Microsoft.ML.OnnxRuntime (no TorchSharp, no libtorch) scores the model.onnx the first
#         app exported and gets the same probability.
# Runs standalone: bash eng/consumer-test.sh (KEEP_CONSUMER_TEST=1 keeps the temporary folder).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
start=$SECONDS
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work="$(mktemp -d)"
if [[ "${KEEP_CONSUMER_TEST:-}" == 1 ]]; then
  echo "consumer-test: keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
case "$work/" in "$repo"/*) echo "consumer-test: $work is inside the repository" >&2; exit 1 ;; esac
feed="$work/feed"
mkdir -p "$feed"
libtorch_version=2.10.0                          # the libtorch that TorchSharp 0.107 is built for

step() { echo "== consumer-test: $* ($((SECONDS - start)) s)"; }
fail() { echo "consumer-test: FAILED: $*" >&2; exit 1; }

step "pack the solution into $feed"
dotnet pack "$repo/ML.DeepExtensions.sln" -c Release -o "$feed" -p:ContinuousIntegrationBuild=true -v:q -nologo
version="$(dotnet msbuild "$repo/src/ML.DeepExtensions/ML.DeepExtensions.csproj" -getProperty:Version -p:Configuration=Release)"
expected="ML.DeepExtensions ML.DeepExtensions.Audio ML.DeepExtensions.Plots ML.DeepExtensions.Text ML.DeepExtensions.Vision"
packed="$(cd "$feed" && ls *.nupkg | sed "s/\.$version\.nupkg\$//" | sort | tr '\n' ' ' | sed 's/ $//')"
[[ "$packed" == "$expected" ]] || fail "expected packages '$expected' $version, got: $(ls "$feed")"
[[ "$(ls "$feed"/*.snupkg | wc -l)" == 5 ]] || fail "expected 5 symbol packages, got: $(ls "$feed")"
echo "packed $version: $(ls "$feed" | tr '\n' ' ')"

# From here on, as on a fresh machine: an empty package cache (the repository's own restores above used the usual one).
export NUGET_PACKAGES="$work/nuget-packages"
mkdir -p "$NUGET_PACKAGES"

# The repository's package sources (NuGet.config), with the local feed added and source mapping so that the
# ML.DeepExtensions ids can only come from the feed.
sources="$(sed -n '/<packageSources>/,/<\/packageSources>/p' "$repo/NuGet.config" | grep '<add ')"
keys="$(sed -n 's/.*key="\([^"]*\)".*/\1/p' <<<"$sources")"
write_nuget_config() {
  {
    echo '<?xml version="1.0" encoding="utf-8"?>'
    echo '<configuration>'
    echo '  <packageSources>'
    echo '    <clear />'
    echo "    <add key=\"local-feed\" value=\"$feed\" />"
    echo "$sources"
    echo '  </packageSources>'
    echo '  <packageSourceMapping>'
    echo '    <packageSource key="local-feed"><package pattern="ML.DeepExtensions" /><package pattern="ML.DeepExtensions.*" /></packageSource>'
    for key in $keys; do echo "    <packageSource key=\"$key\"><package pattern=\"*\" /></packageSource>"; done
    echo '  </packageSourceMapping>'
    echo '</configuration>'
  } > "$1/NuGet.config"
}

step "an app without a libtorch backend must not build (MLDX001)"
nobackend="$work/NoBackend"
dotnet new console -o "$nobackend" --framework net10.0 --no-restore >/dev/null
write_nuget_config "$nobackend"
(cd "$nobackend" && dotnet add package ML.DeepExtensions.Text --version "$version" >/dev/null)
if (cd "$nobackend" && dotnet build -nologo > build.log 2>&1); then
  cat "$nobackend/build.log"; fail "an app with no libtorch backend built"
fi
grep -q 'error MLDX001: .*dotnet add package libtorch-cpu-linux-x64 --version 2.10.0' "$nobackend/build.log" \
  || { cat "$nobackend/build.log"; fail "the build did not fail with MLDX001"; }
grep -m1 -o 'error MLDX001: [^[]*' "$nobackend/build.log"
[[ ! -e "$nobackend/bin/Debug/net10.0/cpu" ]] || fail "libtorch was copied into the output"

step "dotnet new console + dotnet add package ML.DeepExtensions $version + libtorch-cpu-linux-x64 $libtorch_version"
app="$work/ConsumerApp"
dotnet new console -o "$app" --framework net10.0 --no-restore >/dev/null
write_nuget_config "$app"
cd "$app"
dotnet add package ML.DeepExtensions --version "$version" >/dev/null
dotnet add package libtorch-cpu-linux-x64 --version "$libtorch_version" >/dev/null
# README.md's Program.cs (between its "consumer-test Program.cs" markers), so that CI runs what users copy.
awk '/<!-- consumer-test Program.cs: end -->/ {f = 0} f {print} /<!-- consumer-test Program.cs: begin -->/ {f = 1}' \
  "$repo/README.md" > Program.md
[[ "$(head -n 1 Program.md)" == '```csharp' && "$(tail -n 1 Program.md)" == '```' ]] \
  || fail "README.md has no csharp block between the consumer-test Program.cs markers"
sed '1d;$d' Program.md > Program.cs && rm Program.md
# Not part of the README's program: reports at exit whether TorchSharp's scalar disposals went through the quarantine.
cat > QuarantineReport.cs <<'CS'
using System.Runtime.CompilerServices;

static class QuarantineReport
{
    [ModuleInitializer]
    internal static void Register() => AppDomain.CurrentDomain.ProcessExit +=
        (_, _) => Console.WriteLine($"scalar quarantine: {ML.DeepExtensions.Runtime.TorchRuntime.ScalarQuarantineState}");
}
CS
echo "--- ConsumerApp.csproj"; cat ConsumerApp.csproj

step "dotnet run"
dotnet run > run.log 2>&1 || { cat run.log; fail "dotnet run failed"; }
cat run.log
grep -q '^OK: ' run.log || fail "the app did not print OK"
grep -q '^scalar quarantine: active' run.log || fail "the app's scalar quarantine is not active"

# The build-output and publish copies of libLibTorchSharp.so must load here; the package cache copy stays original.
is_weak() {   # readelf's whole output first: grep -q would stop reading early and fail the pipe (pipefail)
  readelf -V "$1" > "$work/readelf.txt"
  grep -q 'Name: GLIBCXX_3.4.32  Flags: WEAK' "$work/readelf.txt"
}
check_library() {
  local lib="$1" ldd_out
  [[ -f "$lib" ]] || fail "no $lib"
  is_weak "$lib" || [[ "$(needs_fix)" == no ]] || fail "$lib: GLIBCXX_3.4.32 is not weak"
  ldd_out="$(ldd "$lib" 2>&1)"
  if grep 'not found' <<<"$ldd_out" | grep -v 'weak version'; then fail "ldd $lib: missing dependencies"; fi
  python3 -c 'import ctypes, sys; ctypes.CDLL(sys.argv[1]); print("dlopen ok:", sys.argv[1])' "$lib" \
    || fail "dlopen $lib"
}
needs_fix() {
  if grep -q 'GLIBCXX_3\.4\.32' "$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"; then echo no; else echo yes; fi
}
echo "system libstdc++ lacks GLIBCXX_3.4.32 (fix needed): $(needs_fix)"

step "ldd / dlopen of the build output's libLibTorchSharp.so"
built="$(find "$app/bin" -name libLibTorchSharp.so | head -n 1)"
check_library "$built"
echo "ldd $built:"; ldd "$built" 2>&1 | sed 's/^/  /'
cached="$NUGET_PACKAGES/torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so"
[[ -f "$cached" ]] || fail "no $cached"
if is_weak "$cached"; then fail "the package cache copy was modified"; fi
echo "package cache copy untouched: $cached"

step "a second build changes nothing (idempotent)"
sum_before="$(sha256sum "$built")"
dotnet build -nologo -v:q >/dev/null
[[ "$(sha256sum "$built")" == "$sum_before" ]] || fail "the second build changed $built"

step "dotnet publish, then ldd / dlopen and run of the published app"
dotnet publish -c Release -r linux-x64 --self-contained false -o "$work/publish" -nologo -v:q >/dev/null
check_library "$work/publish/libLibTorchSharp.so"
(cd "$work/publish" && dotnet ConsumerApp.dll) | tee publish-run.log
grep -q '^OK: ' publish-run.log || fail "the published app did not print OK"
grep -q '^scalar quarantine: active' publish-run.log || fail "the published app's scalar quarantine is not active"

step "mixed precision from the packages: Precision = MixedBFloat16 (libtorch's autocast entry points resolved in the app)"
# The README's program has run and been published; the same app now trains with TrainerOptions.Precision instead.
mv Program.cs ReadmeProgram.cs.txt
cat > Program.cs <<'CS'
using Microsoft.ML;
using Microsoft.ML.Data;
using ML.DeepExtensions;
using ML.DeepExtensions.Networks;
using ML.DeepExtensions.Training;

var mlContext = new MLContext(seed: 1);
var random = new Random(1);
var rows = Enumerable.Range(0, 200).Select(_ =>
{
    float a = random.NextSingle() * 2 - 1, b = random.NextSingle() * 2 - 1;
    return new Point { Features = [a, b], Label = a + b > 0 };
}).ToArray();
var data = mlContext.Data.LoadFromEnumerable(rows);
var model = mlContext.BinaryClassification.Trainers.NeuralNetwork(new NeuralNetworkBinaryOptions
{
    Network = Network.Create().Dense(8).Tanh(), Epochs = 30, LearningRate = 1e-2, Precision = TrainingPrecision.MixedBFloat16,
}).Fit(data);
var accuracy = mlContext.BinaryClassification.Evaluate(model.Transform(data)).Accuracy;
Console.WriteLine($"{(accuracy > 0.9 ? "OK" : "FAILED")}: mixed bfloat16 training accuracy {accuracy:P1}, final loss {model.History[^1].TrainingLoss:F4}");
return accuracy > 0.9 ? 0 : 1;

public sealed class Point
{
    [VectorType(2)]
    public float[] Features { get; set; } = [];

    public bool Label { get; set; }
}
CS
dotnet run > mixed-run.log 2>&1 || { cat mixed-run.log; fail "the mixed-precision app failed"; }
cat mixed-run.log
grep -q '^OK: mixed bfloat16' mixed-run.log || fail "the mixed-precision app did not print OK"
rm Program.cs && mv ReadmeProgram.cs.txt Program.cs

step "an app with ONNX Runtime only (no TorchSharp, no libtorch) scores the exported model.onnx"
onnxapp="$work/OnnxOnlyApp"
dotnet new console -o "$onnxapp" --framework net10.0 --no-restore >/dev/null
write_nuget_config "$onnxapp"
onnxruntime_version="$(sed -n 's/.*PackageVersion Include="Microsoft.ML.OnnxRuntime" Version="\([^"]*\)".*/\1/p' "$repo/Directory.Packages.props")"
(cd "$onnxapp" && dotnet add package Microsoft.ML.OnnxRuntime --version "$onnxruntime_version" >/dev/null)
cat > "$onnxapp/Program.cs" <<'CS'
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

// The points the ML.NET app predicted: (0.8, 0.7) is positive, (-0.8, -0.7) is not, (0.3, -0.1) is near the boundary.
using var session = new InferenceSession(args[0]);
var input = new DenseTensor<float>(new float[] { 0.8f, 0.7f, -0.8f, -0.7f, 0.3f, -0.1f }, new[] { 3, 2 });
using var results = session.Run(new[] { NamedOnnxValue.CreateFromTensor("Features", input) });
var probability = results.First(r => r.Name == "Probability").AsEnumerable<float>().ToArray();
var label = results.First(r => r.Name == "PredictedLabel").AsEnumerable<bool>().ToArray();
var torch = AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name!.StartsWith("TorchSharp", StringComparison.Ordinal));
var ok = label[0] && !label[1] && probability[0] > 0.5f && probability[1] < 0.5f && !torch;
Console.WriteLine($"{(ok ? "OK" : "FAILED")}: ONNX Runtime p(0.8, 0.7) = {probability[0]:F3}, p(-0.8, -0.7) = {probability[1]:F3}, p(0.3, -0.1) = {probability[2]:F4}, TorchSharp loaded: {torch}");
return ok ? 0 : 1;
CS
(cd "$onnxapp" && dotnet run -- "$app/model.onnx") | tee "$onnxapp/run.log"
grep -q '^OK: ' "$onnxapp/run.log" || fail "the ONNX Runtime app could not score model.onnx"
if find "$onnxapp/bin" \( -iname '*torch*' -o -iname 'libc10*' \) | grep -q .; then fail "the ONNX Runtime app's output holds torch files"; fi
expected_p="$(sed -n 's/.*p(0.3, -0.1) = \([0-9.]*\).*/\1/p' "$app/run.log")"
[[ -n "$expected_p" ]] || fail "the ML.NET app printed no p(0.3, -0.1)"
grep -qF "p(0.3, -0.1) = $expected_p," "$onnxapp/run.log" \
  || fail "ONNX Runtime's p(0.3, -0.1) differs from the ML.NET app's $expected_p (to 4 decimals)"

step "passed"
echo "consumer-test: passed in $((SECONDS - start)) s"
