"""The captcha's audio version reads the letters in French with espeak-ng, flite being the fallback."""

import io
import shutil
import subprocess
import wave

import pytest
from captcha.models import CaptchaStore
from django.urls import reverse

from accounts import captcha_audio

pytestmark = pytest.mark.django_db

ESPEAK = shutil.which("espeak-ng")
FLITE = shutil.which("flite")
SOX = shutil.which("sox")
needs_espeak = pytest.mark.skipif(not ESPEAK, reason="espeak-ng is not installed (apt-get install espeak-ng)")
needs_flite = pytest.mark.skipif(not FLITE, reason="flite is not installed (apt-get install flite)")


@pytest.fixture
def challenge():
    key = CaptchaStore.generate_key()
    return CaptchaStore.objects.get(hashkey=key)


def url(key: str) -> str:
    return reverse("captcha-audio", kwargs={"key": key})


def spoken_by_espeak(text: str, voice: str, tmp_path) -> bytes:
    out = tmp_path / f"{voice}.wav"
    command = captcha_audio.espeak_command(text, out)
    command[command.index("-v") + 1] = voice
    subprocess.run(command, check=True, capture_output=True)
    return out.read_bytes()


def frames(wav: bytes) -> int:
    with wave.open(io.BytesIO(wav)) as reader:
        return reader.getnframes()


@needs_espeak
def test_audio_captcha_reads_the_letters_with_espeak_ngs_french_voice(client, settings, challenge, tmp_path):
    settings.CAPTCHA_ESPEAK_PATH = ESPEAK
    settings.CAPTCHA_SOX_PATH = None  # no random noise: the speech itself is compared
    response = client.get(url(challenge.hashkey))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    wav = b"".join(response.streaming_content)
    assert wav[:4] == b"RIFF" and frames(wav) > 0

    text = captcha_audio.spoken_text(challenge.challenge)
    assert text == ", ".join(challenge.challenge)
    assert wav == spoken_by_espeak(text, "fr", tmp_path)
    assert wav != spoken_by_espeak(text, "en", tmp_path)


@needs_espeak
def test_french_voice_names_the_letters_as_a_french_listener_expects():
    """espeak-ng's phonemes for « B, W, Y »: « bé », « double vé », « i grec » (English: « bee », …)."""
    phonemes = subprocess.run(
        [ESPEAK, "-v", captcha_audio.FRENCH_VOICE, "-q", "-x", captcha_audio.spoken_text("BWY")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "b'e" in phonemes and "dubl@v'e" in phonemes and "igr'Ek" in phonemes


@needs_espeak
@pytest.mark.skipif(not SOX, reason="sox is not installed")
def test_sox_mixes_noise_into_the_french_speech(settings, challenge, tmp_path):
    settings.CAPTCHA_ESPEAK_PATH, settings.CAPTCHA_SOX_PATH = ESPEAK, SOX
    wav, engine = captcha_audio.challenge_wav(challenge.challenge)
    assert engine == "espeak-ng"
    plain = spoken_by_espeak(captcha_audio.spoken_text(challenge.challenge), "fr", tmp_path)
    assert wav != plain
    with wave.open(io.BytesIO(wav)) as reader, wave.open(io.BytesIO(plain)) as speech:
        assert reader.getsampwidth() == 2
        assert reader.getnframes() == speech.getnframes()


@needs_flite
def test_flite_reads_the_letters_when_espeak_ng_is_missing_or_fails(client, settings, challenge):
    settings.CAPTCHA_SOX_PATH = None
    for espeak in [None, "/nonexistent/espeak-ng"]:
        settings.CAPTCHA_ESPEAK_PATH, settings.CAPTCHA_FLITE_PATH = espeak, FLITE
        wav, engine = captcha_audio.challenge_wav(challenge.challenge)
        assert engine == "flite"
        assert frames(wav) > 0
        assert client.get(url(challenge.hashkey)).status_code == 200


def test_no_synthesiser_means_no_audio_link_and_no_audio(client, settings, challenge):
    settings.CAPTCHA_ESPEAK_PATH = settings.CAPTCHA_FLITE_PATH = None
    page = client.get(reverse("accounts:signup")).text
    assert "Écouter les caractères" not in page
    assert client.get(url(challenge.hashkey)).status_code == 404


@needs_espeak
def test_signup_offers_the_audio_version_with_espeak_ng_alone(client, settings):
    settings.CAPTCHA_ESPEAK_PATH, settings.CAPTCHA_FLITE_PATH = ESPEAK, None
    page = client.get(reverse("accounts:signup")).text
    assert "Écouter les caractères (version audio)" in page
    assert "/captcha/audio/" in page


@needs_espeak
def test_unknown_or_expired_challenge_is_gone(client, settings, challenge):
    settings.CAPTCHA_ESPEAK_PATH = ESPEAK
    assert client.get(url("0" * 40)).status_code == 410
    CaptchaStore.objects.filter(pk=challenge.pk).update(expiration="2000-01-01T00:00:00Z")
    assert client.get(url(challenge.hashkey)).status_code == 410


@needs_espeak
def test_audio_captcha_is_rate_limited_per_ip(client, settings):
    settings.CAPTCHA_ESPEAK_PATH = ESPEAK
    for _ in range(30):
        assert client.get(url("0" * 40)).status_code == 410
    assert client.get(url("0" * 40)).status_code == 429
