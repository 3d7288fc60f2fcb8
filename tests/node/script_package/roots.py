"""A root script: lists the capabilities it was started with (the terminal's, plus networking)."""

from hyperpy import script
from hyperpy.runtime.process import current_runtime


@script
def main(args: str) -> str:
    caps = current_runtime().host.standard.our_capabilities()
    return "\n".join(sorted(f"{cap.issuer.process.process_name}:{cap.params}" for cap in caps))
