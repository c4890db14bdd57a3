"""Where things are, for tests in any folder of tests/."""
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
SRC = ROOT / "src" / "artifactlens"
FIXTURES = TESTS / "fixtures"
