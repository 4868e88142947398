"""What tests share besides fixtures: real plugin processes, the CLI as a process, the
console seen as the operator sees it, and a real HTTP gateway. Fixtures that use these
are in tests/conftest.py; test modules import helpers from here, never from conftest or
from each other."""
