"""trio_direct._aws.credentials: where the AWS tools find credentials, region and endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from trio_direct._aws.credentials import AWSConfig, AWSCredentials, resolve_aws_config
from trio_direct.exceptions import UserError

SECRET = "sEcReT/ThatMustNeverLeak+0123456789abcdef"
TOKEN = "SeSsIoNtOkEn-ThatMustNeverLeak-0123456789"


def _resolve(env: dict[str, str], **kwargs: object) -> AWSConfig:
    return resolve_aws_config(
        service_env_name="BEDROCK_RUNTIME",
        default_endpoint="https://bedrock-runtime.{region}.amazonaws.com",
        bearer_env="AWS_BEARER_TOKEN_BEDROCK",
        environ=env,
        **{"chain": False, **kwargs},  # type: ignore[arg-type]
    )


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An environment whose shared files live in tmp_path (never the real ~/.aws)."""
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
    }


def test_environment_keys(home: dict[str, str]) -> None:
    config = _resolve(
        {
            **home,
            "AWS_ACCESS_KEY_ID": "AKID",
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_SESSION_TOKEN": TOKEN,
            "AWS_REGION": "eu-west-3",
        }
    )
    assert config.credentials == AWSCredentials("AKID", SECRET, TOKEN)
    assert config.region == "eu-west-3"
    assert config.endpoint_url == "https://bedrock-runtime.eu-west-3.amazonaws.com"
    assert config.bearer_token is None


def test_region_order(home: dict[str, str]) -> None:
    env = {
        **home,
        "AWS_ACCESS_KEY_ID": "A",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "us-west-2",
    }
    assert _resolve(env).region == "us-west-2"
    assert _resolve({**env, "AWS_REGION": "ap-south-1"}).region == "ap-south-1"
    assert _resolve({**env, "AWS_REGION": "ap-south-1"}, region="ca-central-1").region == "ca-central-1"


def test_profile_from_shared_files(home: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(
        f"[default]\naws_access_key_id = DEF\naws_secret_access_key = {SECRET}\n\n"
        f"[work]\naws_access_key_id = WORK\naws_secret_access_key = {SECRET}\naws_session_token = {TOKEN}\n"
    )
    (tmp_path / "config").write_text(
        "[default]\nregion = us-east-2\n\n[profile work]\nregion = eu-central-1\n"
        "endpoint_url = https://vpce.example.com\n"
    )
    default = _resolve(home)
    assert default.credentials == AWSCredentials("DEF", SECRET)
    assert default.region == "us-east-2"
    work = _resolve({**home, "AWS_PROFILE": "work"})
    assert work.credentials == AWSCredentials("WORK", SECRET, TOKEN)
    assert (work.region, work.endpoint_url) == ("eu-central-1", "https://vpce.example.com")
    assert "profile 'work'" in work.source
    ignored = _resolve({**home, "AWS_PROFILE": "work", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"})
    assert ignored.endpoint_url == "https://bedrock-runtime.eu-central-1.amazonaws.com"


def test_keys_in_the_config_file(home: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "config").write_text(
        f"[profile cfg]\naws_access_key_id = CFG\naws_secret_access_key = {SECRET}\nregion = sa-east-1\n"
    )
    config = _resolve({**home, "AWS_PROFILE": "cfg"})
    assert config.credentials == AWSCredentials("CFG", SECRET)
    assert config.region == "sa-east-1"


def test_env_keys_beat_aws_profile_but_not_an_explicit_profile(home: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(
        f"[p]\naws_access_key_id = FILE\naws_secret_access_key = {SECRET}\n"
    )
    env = {
        **home,
        "AWS_PROFILE": "p",
        "AWS_ACCESS_KEY_ID": "ENV",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "us-east-1",
    }
    assert _resolve(env).credentials.access_key_id == "ENV"  # type: ignore[union-attr]
    assert _resolve(env, profile="p").credentials.access_key_id == "FILE"  # type: ignore[union-attr]


def test_missing_profile_is_a_user_error(home: dict[str, str]) -> None:
    with pytest.raises(UserError, match="profile 'nope' was not found"):
        _resolve({**home, "AWS_PROFILE": "nope", "AWS_REGION": "us-east-1"})


def test_login_profiles_are_refused_with_advice(home: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[profile sso]\nsso_session = corp\nregion = us-east-1\n")
    with pytest.raises(UserError, match=r"sso_session.*export-credentials"):
        _resolve({**home, "AWS_PROFILE": "sso"})


def test_no_credentials_names_the_variables(home: dict[str, str]) -> None:
    with pytest.raises(UserError, match=r"AWS_ACCESS_KEY_ID.*AWS_BEARER_TOKEN_BEDROCK"):
        _resolve({**home, "AWS_REGION": "us-east-1"})


def test_no_region(home: dict[str, str]) -> None:
    with pytest.raises(UserError, match="AWS_REGION"):
        _resolve({**home, "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": SECRET})


def test_region_must_be_a_region_name(home: dict[str, str]) -> None:
    with pytest.raises(UserError, match="not an AWS region"):
        _resolve(
            {**home, "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "evil.com/x"}
        )


def test_bearer_token(home: dict[str, str]) -> None:
    env = {
        **home,
        "AWS_BEARER_TOKEN_BEDROCK": TOKEN,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "A",
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }
    config = _resolve(env)
    assert config.bearer_token == TOKEN and config.credentials is None
    # explicit SigV4 keys beat the token from the environment
    explicit = _resolve(env, access_key_id="X", secret_access_key=SECRET)
    assert explicit.bearer_token is None and explicit.credentials == AWSCredentials("X", SECRET)


def test_bearer_token_only_over_https(home: dict[str, str]) -> None:
    env = {
        **home,
        "AWS_BEARER_TOKEN_BEDROCK": TOKEN,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:9",
    }
    with pytest.raises(UserError, match="only over HTTPS") as info:
        _resolve(env)
    assert TOKEN not in str(info.value)


def test_endpoint_order(home: dict[str, str]) -> None:
    env = {
        **home,
        "AWS_ACCESS_KEY_ID": "A",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "https://generic.example/",
    }
    assert _resolve(env).endpoint_url == "https://generic.example"
    env["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"] = "http://127.0.0.1:1234"
    assert _resolve(env).endpoint_url == "http://127.0.0.1:1234"
    assert _resolve(env, endpoint_url="https://arg.example").endpoint_url == "https://arg.example"
    with pytest.raises(UserError, match="must start with https"):
        _resolve(env, endpoint_url="ftp://x")


def test_half_explicit_keys(home: dict[str, str]) -> None:
    with pytest.raises(UserError, match="both"):
        _resolve({**home, "AWS_REGION": "us-east-1"}, access_key_id="A")


def test_unreadable_file_does_not_quote_it(home: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(f"aws_secret_access_key = {SECRET}\n[broken\n")
    with pytest.raises(UserError, match="cannot read the AWS shared credentials file") as info:
        _resolve({**home, "AWS_PROFILE": "x", "AWS_REGION": "us-east-1"})
    assert SECRET not in str(info.value)


def test_reprs_hide_secrets(home: dict[str, str]) -> None:
    config = _resolve(
        {
            **home,
            "AWS_ACCESS_KEY_ID": "AKID",
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_SESSION_TOKEN": TOKEN,
            "AWS_REGION": "us-east-1",
        }
    )
    bearer = _resolve({**home, "AWS_BEARER_TOKEN_BEDROCK": TOKEN, "AWS_REGION": "us-east-1"})
    for text in (repr(config), str(config), repr(config.credentials), repr(bearer)):
        assert SECRET not in text and TOKEN not in text
    assert "AKID" in repr(config)
    assert set(config.secrets()) == {SECRET, TOKEN}
