"""Write a verification's output folder ``OUTPUT_DIR/TESTxx/`` atomically, as the official scripts lay it out.

The folder is built under a temporary name beside its destination and renamed into place
(:func:`compliance.fsutil.replace_folder`), so a reader sees the old complete folder or the new one, never a mix.
Input logs are only read (copies keep their timestamps), and the output may not replace a folder holding inputs.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from compliance.errors import InputError
from compliance.fsutil import replace_folder
from compliance.layout import VERIFY_JSON
from compliance.verify import render
from compliance.verify.base import Verifier
from compliance.verify.result import Result


def _copies(result: Result, verifier: Verifier) -> dict[str, str]:
    """Files copied from the compliance run into the TEST folder: name -> source path."""
    return {name: result.inputs[source] for name, source in verifier.copies.items()}


def planned_files(result: Result, verifier: Verifier) -> dict[str, str | None]:
    """Every file of the TEST folder (:meth:`Verifier.files`): text to write, or None for a copy."""
    earlier = "\n".join(render.attempt_lines(result))  # the earlier attempts, where a reviewer reads the verdict
    rendered = verifier.render(render.as_data(result))  # strings from the logs are data (render.as_data)
    files: dict[str, str | None] = {name: text + earlier + "\n" if earlier else text for name, text in rendered.items()}
    files.update(result.attachments)  # programs' output, verbatim (the checker reads its metrics from them)
    files[VERIFY_JSON] = render.verify_json(result)
    files.update({name: None for name in _copies(result, verifier)})
    return files


def write(output_dir: str | Path, result: Result, verifier: Verifier) -> Path:
    """Write ``OUTPUT_DIR/<test>/`` and return its path.

    Raises:
        InputError: the folder would replace or contain the input logs, or cannot be written.
    """
    target = Path(output_dir) / result.test
    resolved = target.resolve()
    for source in result.inputs.values():
        source_path = Path(source).resolve()
        if resolved == source_path.parent or resolved in source_path.parents:
            raise InputError(f"{target}: writing here would replace the input log {source}; choose another -o")

    def fill(staging: Path) -> None:
        for name, text in planned_files(result, verifier).items():
            if text is not None:
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                (staging / name).write_text(text, encoding="utf-8")
        for name, source in _copies(result, verifier).items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, staging / name)

    try:
        replace_folder(target, fill)
    except OSError as exc:
        raise InputError(f"{target}: cannot write the output ({exc.strerror or exc})") from exc
    return target
