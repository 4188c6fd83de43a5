#!/usr/bin/env python3
"""Source checks that the compiler cannot make.

1. Every public declaration that returns something to co_await (a Coro, an awaiter, or a
   [[nodiscard]] function whose doc says it suspends) carries a `Cancellation:` line in
   its `///` doc block, in the fixed wording "Cancel-safe:" / "Not cancel-safe:".
2. No library code, example or README uses a shape g++ 12.2 miscompiles or refuses
   (shared notes: co_await inside ?:, in a switch condition, in a statement that builds
   a by-value-capturing lambda, or around a braced list).
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
errors = []

# --- 1. Cancellation docs -------------------------------------------------------------
AWAITABLE_RETURN = re.compile(
    r"^\s*(?:template\s*<[^;{]*>\s*)?(?:\[\[nodiscard\]\]\s*)?(?:static\s+|inline\s+|friend\s+)*"
    r"(?:Coro<[^;(]*>|detail::\w*Awaiter(?:<[^;(]*>)?|\w*Awaiter(?:<[^;(]*>)?|auto)\s+(\w+)\s*\(")

for header in sorted((root / "include" / "aio").rglob("*.hpp")):
    if "detail" in header.parts:
        continue
    lines = header.read_text().splitlines()
    in_detail = False
    for i, line in enumerate(lines):
        if re.match(r"\s*namespace detail\s*\{", line):
            in_detail = True
        elif re.match(r"\s*\}\s*//\s*namespace detail", line):
            in_detail = False
        if in_detail:
            continue
        m = AWAITABLE_RETURN.match(line)
        if not m or line.strip().startswith("//"):
            continue
        name = m.group(1)
        if name.startswith("operator") or name in {"await_ready", "await_suspend", "await_resume", "get_return_object", "final_suspend", "initial_suspend"}:
            continue
        # Collect the doc block above (skipping template/requires lines).
        j = i - 1
        while j >= 0 and (lines[j].strip().startswith(("template", "requires", "[[nodiscard]]")) or lines[j].strip() == ""):
            if lines[j].strip() == "":
                break
            j -= 1
        doc = []
        while j >= 0 and lines[j].strip().startswith("///"):
            doc.append(lines[j].strip())
            j -= 1
        text = " ".join(reversed(doc))
        is_auto = " auto " in f" {line} "
        suspends = not is_auto or "co_await" in text or "await" in text.lower()
        if not doc:
            if not is_auto:
                errors.append(f"{header.relative_to(root)}:{i + 1}: {name}() returns an awaitable but has no /// doc")
            continue
        if suspends and "Cancellation:" not in text and not is_auto:
            errors.append(f"{header.relative_to(root)}:{i + 1}: {name}() has no 'Cancellation:' doc line")
        if "Cancellation:" in text and not re.search(r"Cancellation: (Cancel-safe|Not cancel-safe)", text):
            errors.append(f"{header.relative_to(root)}:{i + 1}: {name}(): 'Cancellation:' must say 'Cancel-safe:' or 'Not cancel-safe:'")

# --- 2. g++ 12 coroutine shapes ---------------------------------------------------------
def statements(text):
    """Rough statement split: good enough for the patterns below."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.split(r";|\{\s*\n|\}\s*\n", text)

TERNARY = re.compile(r"\?[^:;]*co_await|co_await[^;?]*\?[^;:]*:")
SWITCH = re.compile(r"switch\s*\([^)]*co_await")
BRACED_LIST = re.compile(r"co_await[^;]*(?:\{\s*\{|[(,]\s*\{(?!\s*[.}]))")
AGGREGATE_AWAIT = re.compile(r"\b[A-Za-z_]\w*\s*\{[^{};]*co_await[^;{}]*\}\s*[;,)]")
VALUE_CAPTURE = re.compile(r"co_await[^;]*\[(?:=|[^\]&]*\w+\s*=|[^\]&\[]*\b(?!this\b)[A-Za-z_]\w*\s*[,\]])")

sources = [p for d in ("include", "src", "examples", "apps", "tests", "bench") for p in (root / d).rglob("*.[ch]pp")
           if "compile_fail" not in p.parts]
for path in sorted(sources):
    for stmt in statements(path.read_text()):
        if "co_await" not in stmt:
            continue
        flat = " ".join(stmt.split())
        where = f"{path.relative_to(root)}: `{flat[:100]}`"
        if TERNARY.search(flat):
            errors.append(f"{where}: co_await inside ?: (g++ 12 miscompiles it; bind to a local first)")
        if SWITCH.search(flat):
            errors.append(f"{where}: co_await in a switch condition (g++ 12 miscompiles it)")
        code = re.sub(r'"(?:\\.|[^"\\])*"', '""', re.sub(r'R"\((.*?)\)"', '""', flat))
        if AGGREGATE_AWAIT.search(code):
            errors.append(f"{where}: co_await inside a braced initializer (g++ 12 destroys the result twice; "
                          "bind the awaited value to a local first)")
        if BRACED_LIST.search(code):
            errors.append(f"{where}: a braced list inside a co_await expression (g++ 12: 'array used as initializer'; "
                          "build it in a named local first)")
        if VALUE_CAPTURE.search(flat) and "[&]" not in flat:
            errors.append(f"{where}: a lambda capturing by value inside a co_await expression (g++ 12 double-destroys it)")

readme = root / "README.md"
if readme.exists():
    for block in re.findall(r"```cpp\n(.*?)```", readme.read_text(), flags=re.S):
        for stmt in statements(block):
            flat = " ".join(stmt.split())
            if "co_await" in flat and (TERNARY.search(flat) or SWITCH.search(flat)):
                errors.append(f"README.md: `{flat[:100]}` uses a shape g++ 12 miscompiles")

# --- 3. README code is real code -------------------------------------------------------
if readme.exists():
    examples = "\n".join(p.read_text() for p in (root / "examples").glob("*.cpp"))
    for block in re.findall(r"```cpp\n(.*?)```", readme.read_text(), flags=re.S):
        if block not in examples:
            errors.append("README.md: a ```cpp block is not the text of a file in examples/ "
                          f"(starts `{block.strip()[:60]}`)")

for e in errors:
    print(e)
print(f"lint: {len(errors)} problem(s)")
sys.exit(1 if errors else 0)
