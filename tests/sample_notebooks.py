"""Notebooks written for kernelenv's tests that look like the ones users bring (our own, not copied).

Each reads like a course or analysis notebook: long bilingual (English / 中文) markdown, helper
classes and functions defined in early cells and used much later, deliberate teaching errors
tagged ``raises-exception``, and calls to APIs that newer numpy / pandas removed (``np.float``,
``np.asscalar``, ``DataFrame.append``, ``Series.iteritems``). ``EXPECTED`` says, per notebook, what
a correct report holds (code-cell numbers are 0-based, as nbval names them).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

TEACHING = {"tags": ["raises-exception"]}


def md(*paragraphs: str):
    return new_markdown_cell("\n\n".join(paragraphs))


def code(src: str, **meta):
    return new_code_cell(src, metadata=meta or {})


def sales_ledger() -> list:
    """A pandas lesson written for pandas 1.x: a Ledger class early, removed APIs later."""
    return [
        md("# Lesson 4 · Monthly sales with pandas", "# 第四课 · 用 pandas 分析月度销售"),
        md(
            "This lesson follows a small shop through one quarter. We keep every sale in a `DataFrame`, add new sales as "
            "they happen, and summarise them by month and by product. Along the way we write a tiny `Ledger` class that "
            "prints a running average, because the shop owner asked for *one number* she can read at a glance. "
            "Read each cell before running it: two cells fail on purpose to show what pandas says when you ask for a "
            "column that does not exist.",
            "本课跟随一家小店度过一个季度。我们把每一笔销售记录在 `DataFrame` 中，随时追加新的销售，并按月份和产品汇总。"
            "途中我们会写一个小小的 `Ledger` 类来显示滚动平均值，因为店主只想看*一个数字*。运行每个单元格之前请先阅读它："
            "有两个单元格是故意出错的，用来展示当你访问不存在的列时 pandas 会说什么。",
        ),
        code("import numpy as np\nimport pandas as pd\n\nprint('pandas', pd.__version__)"),
        md(
            "## 1. A ledger that prints its average",
            "## 1. 一个会显示平均值的账本",
            "`Ledger.__repr__` is what Jupyter shows when a ledger is the last line of a cell.",
            "当账本是单元格的最后一行时，Jupyter 显示的就是 `Ledger.__repr__` 的结果。",
        ),
        code(
            "class Ledger:\n"
            '    """Amounts of sales, with their mean shown as the ledger\'s text."""\n'
            "\n"
            "    def __init__(self, amounts):\n"
            "        self.amounts = list(amounts)\n"
            "\n"
            "    def mean(self):\n"
            "        return sum(self.amounts) / len(self.amounts)\n"
            "\n"
            "    def __repr__(self):\n"
            "        return f'Ledger({len(self.amounts)} sales, mean {self.mean():.2f})'\n"
        ),
        code("january = Ledger([12.5, 30.0, 7.25])\njanuary"),
        md("## 2. The quarter as a DataFrame", "## 2. 把一个季度做成 DataFrame"),
        code(
            "sales = pd.DataFrame({\n"
            "    'month': ['Jan', 'Jan', 'Feb', 'Mar'],\n"
            "    'product': ['tea', 'cake', 'tea', 'tea'],\n"
            "    'amount': [12.5, 30.0, 7.25, 18.0],\n"
            "})\n"
            "sales.groupby('month', sort=False)['amount'].sum()"
        ),
        md(
            "### A mistake everybody makes (this cell fails on purpose)",
            "### 人人都会犯的错误（这个单元格故意出错）",
            "There is no `price` column: pandas raises `KeyError`.",
            "表中没有 `price` 列：pandas 会抛出 `KeyError`。",
        ),
        code("sales['price']", **TEACHING),
        md(
            "## 3. Adding April's sales",
            "## 3. 追加四月的销售",
            "In pandas 1.x, `DataFrame.append` added rows. It was removed in pandas 2.0.",
            "在 pandas 1.x 中，`DataFrame.append` 用来追加行；pandas 2.0 删除了它。",
        ),
        code(
            "april = {'month': 'Apr', 'product': 'cake', 'amount': 22.0}\n"
            "with_april = sales.append(april, ignore_index=True)\nlen(with_april)"
        ),
        code("for column, values in sales.iteritems():\n    print(column, values.dtype)"),
        md("## 4. An empty month", "## 4. 空的月份", "May had no sales yet.", "五月还没有销售。"),
        code("may = Ledger([])\nprint('May ledger ready')\nmay"),
        md("## 5. Checks", "## 5. 检查"),
        code("total = float(sales['amount'].sum())\nprint(total)\nassert total == 100.0"),
        code("ratio = np.float(total) / 4\nratio"),
        code("april_rows = with_april[with_april.month == 'Apr']\nassert len(april_rows) == 1"),
        code("with_april.tail(2)"),
        md("That is the quarter. 本季度到此结束。"),
    ]


def signal_helpers() -> list:
    """A numpy lesson: helper functions defined early, an error deep inside one called much later."""
    return [
        md("# Signals with NumPy", "# 用 NumPy 处理信号"),
        md(
            "We build a short noisy signal, smooth it with a moving average and measure how much noise is left. The "
            "helpers `smooth` and `check_window` are defined once at the top and used by every section below, the way "
            "real analysis notebooks grow. Section 3 shows a deliberate error: a window longer than the signal.",
            "我们生成一段带噪声的短信号，用滑动平均把它平滑，并测量剩余的噪声。辅助函数 `smooth` 和 `check_window` "
            "在顶部定义一次，下面每一节都会用到，真实的分析笔记本就是这样长大的。第 3 节展示一个故意的错误：窗口比信号还长。",
        ),
        code(
            "import numpy as np\n\nrng = np.random.default_rng(7)\n"
            "signal = np.sin(np.linspace(0, 6, 50)) + rng.normal(0, 0.1, 50)"
        ),
        code(
            "def check_window(n, size):\n"
            "    if size > n:\n"
            "        raise ValueError(f'window {size} is longer than the signal ({n} samples)')\n"
            "    return size\n"
            "\n"
            "\n"
            "def smooth(x, size=5):\n"
            "    size = check_window(len(x), size)\n"
            "    kernel = np.ones(size) / size\n"
            "    return np.convolve(x, kernel, mode='valid')\n"
        ),
        md("## 1. Smoothing", "## 1. 平滑"),
        code("smoothed = smooth(signal)\nprint(smoothed.shape)\nassert smoothed.shape == (46,)"),
        md("## 2. A window that is too long (fails on purpose)", "## 2. 过长的窗口（故意出错）"),
        code("smooth(signal[:3], size=10)", **TEACHING),
        md(
            "## 3. The noise left",
            "## 3. 剩余的噪声",
            "`np.asscalar` turned a one-element array into a Python number; NumPy 1.23 removed it.",
            "`np.asscalar` 曾把单元素数组变成 Python 数字；NumPy 1.23 删除了它。",
        ),
        code("residual = signal[2:-2] - smoothed\nnoise = np.asscalar(np.std(residual, keepdims=True))\nprint(noise)"),
        code("short = signal[:4]\nprint('short signal', short.shape)\nlevels = smooth(short, size=8)"),
        code("assert np.isclose(signal.mean(), 0.05, atol=1e-3), 'the mean moved'"),
    ]


EXPECTED = {
    # code cells (0-based): what verify's first report says without --keep-going
    "sales-ledger": {"first": {"code_cell": 5, "line": 2, "ename": "AttributeError"}},
    "signal-helpers": {"first": {"code_cell": 4, "line": 2, "ename": "AttributeError"}},
}


def without(cells: list, *fragments: str) -> list:
    """``cells`` less the code cells whose source holds one of ``fragments``."""
    return [c for c in cells if not (c.cell_type == "code" and any(f in c.source for f in fragments))]


def variants() -> dict[str, list]:
    """The sales lesson cut so that each kind of failure comes first (for runs without --keep-going)."""
    full = sales_ledger()
    return {
        "tagged-then-removed-api": full,
        "display-raises-in-class": without(full, "sales['price']", "append", "iteritems"),
        "bare-assert": without(full, "sales['price']", "append", "iteritems", "may"),
    }


def write_cells(path: Path, cells: list) -> Path:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def write(folder: Path) -> dict[str, Path]:
    """Write the sample notebooks into ``folder``; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, cells in (("sales-ledger", sales_ledger()), ("signal-helpers", signal_helpers())):
        out[name] = write_cells(folder / f"{name}.ipynb", cells)
    return out


def code_index(nb_path: Path, cell_position: int) -> int:
    """The 0-based code-cell number (nbval's "Cell N") of the cell at 1-based ``cell_position``."""
    nb = nbformat.read(str(nb_path), as_version=4)
    return sum(1 for c in nb.cells[: cell_position - 1] if c.cell_type == "code")
