"""The event listener connects with a URL kombu accepts."""

from kombu import Connection

from wfaas.triggers.listener import broker_url


def test_wfaas_transport_options_are_removed() -> None:
    url = broker_url("rabbit://guest:guest@127.0.0.1:5672/?queue_prefix=t1&queue_expires=60")
    assert "queue_prefix" not in url and "queue_expires" not in url
    assert Connection(url).as_uri().startswith("amqp://guest:**@127.0.0.1:5672/")


def test_several_hosts_fail_over() -> None:
    url = broker_url("rabbit://a:b@h1:5672,a:b@h2:5672/vh")
    assert url.split(";") == ["amqp://a:b@h1:5672/vh", "amqp://a:b@h2:5672/vh"]


def test_other_urls_are_left_alone() -> None:
    assert broker_url("memory://") == "memory://"
