"""Device twin of AXIS Q6000-E units mounted on AXIS Q60-E PTZs, speaking VAPIX over HTTP.

An independent implementation of the wire contract (shares no code with `plugins/`); see
README.md beside this file. Run it with `python -m tests.emulator`, or from tests through
`tests.emulator.process.Twin`.
"""
