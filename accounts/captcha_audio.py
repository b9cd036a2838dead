"""The captcha's audio version for blind users, read in French.

django-simple-captcha's own audio view only runs flite, whose voices read letters in English. Its hook is the
URL named "captcha-audio" (the widget links to it): chorus/urls.py points that name at our view, which reads
the letters with espeak-ng's French voice and keeps flite as the fallback when espeak-ng is missing or fails.
sox, when present, adds low background noise as the library does, so that speech recognition has a harder
time than a listener.
"""

import logging
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

FRENCH_VOICE = "fr"
# Slower than espeak-ng's default 175 words a minute, with a longer pause between letters (in 10 ms units).
ESPEAK_SPEED = "120"
ESPEAK_WORD_GAP = "30"
TIMEOUT_SECONDS = 10


class AudioUnavailable(Exception):
    """No speech synthesiser could read the challenge."""


def is_available() -> bool:
    return bool(settings.CAPTCHA_ESPEAK_PATH or settings.CAPTCHA_FLITE_PATH)


def spoken_text(challenge: str) -> str:
    """One letter at a time, separated by commas: each synthesiser then names the letter (« bé », « i grec »)
    instead of trying to pronounce the challenge as a word."""
    return ", ".join(challenge)


def _run(command: list[str]) -> bool:
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT_SECONDS)  # noqa: S603
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("captcha audio: %s failed: %s", command[0], exc)
        return False
    return True


def espeak_command(text: str, output: Path) -> list[str]:
    return [
        settings.CAPTCHA_ESPEAK_PATH,
        "-v",
        FRENCH_VOICE,
        "-s",
        ESPEAK_SPEED,
        "-g",
        ESPEAK_WORD_GAP,
        "-w",
        str(output),
        text,
    ]


def _speak(text: str, output: Path) -> str:
    """Write `text` as speech to `output`; return the synthesiser used."""
    if settings.CAPTCHA_ESPEAK_PATH and _run(espeak_command(text, output)):
        return "espeak-ng"
    if settings.CAPTCHA_FLITE_PATH and _run([settings.CAPTCHA_FLITE_PATH, "-t", text, "-o", str(output)]):
        return "flite"
    raise AudioUnavailable


def _add_noise(speech: Path, folder: Path) -> Path:
    """Mix brown noise as long as the speech into it; the plain speech if sox fails."""
    noise, mixed = folder / "noise.wav", folder / "mixed.wav"
    sox = settings.CAPTCHA_SOX_PATH
    if _run([sox, str(speech), str(noise), "synth", "brownnoise", "vol", "0.05"]) and _run(
        [sox, "-m", str(speech), str(noise), "-b", "16", str(mixed)]
    ):
        return mixed
    return speech


def challenge_wav(challenge: str) -> tuple[bytes, str]:
    """The challenge read aloud as a WAV file, and the synthesiser that read it."""
    with tempfile.TemporaryDirectory(prefix="captcha-audio-") as folder:
        speech = Path(folder) / "speech.wav"
        engine = _speak(spoken_text(challenge), speech)
        result = _add_noise(speech, Path(folder)) if settings.CAPTCHA_SOX_PATH else speech
        return result.read_bytes(), engine
