using Tend.Api;
using Tend.Security;

namespace Tend.Tests.Api;

public sealed class SecretMaskTests
{
    [Theory]
    [InlineData("DB_PASSWORD")]
    [InlineData("password")]
    [InlineData("MYSQL_ROOT_PASSWD")]
    [InlineData("JWT_SECRET")]
    [InlineData("ClientSecret")]
    [InlineData("GITHUB_TOKEN")]
    [InlineData("accessToken")]
    [InlineData("API_KEY")]
    [InlineData("APIKEY")]
    [InlineData("stripeApiKey")]
    [InlineData("AWS_SECRET_ACCESS_KEY")]
    [InlineData("GOOGLE_APPLICATION_CREDENTIALS")]
    [InlineData("ConnectionStrings__Main")]
    [InlineData("DB_CONNECTION_STRING")]
    [InlineData("SSH_PRIVATE_KEY")]
    [InlineData("BASIC_AUTH")]
    [InlineData("PASSWORDS")]
    [InlineData("DB_PASSWORDS")]
    [InlineData("X_PASSWORD2")]
    [InlineData("TOKEN2")]
    [InlineData("SECRETKEY")]
    [InlineData("MINIO_SECRETKEY")]
    [InlineData("PRIVATEKEY")]
    [InlineData("SIGNINGKEY")]
    [InlineData("DB_PASS")]
    [InlineData("PGPASS")]
    [InlineData("GH_PAT")]
    [InlineData("API_KEYS")]
    [InlineData("SESSION_COOKIE")]
    [InlineData("HTTP_AUTHORIZATION")]
    [InlineData("refreshTokens")]
    public void IsSecretName_SecretLookingNames_AreMasked(string name)
    {
        Assert.True(SecretMask.IsSecretName(name));
        Assert.Equal(SecretMask.Mask, SecretMask.Value(name, "hunter2"));
    }

    [Theory]
    [InlineData("PATH")]
    [InlineData("PWD")]
    [InlineData("HOME")]
    [InlineData("MONKEY_COUNT")]
    [InlineData("KEYBOARD_LAYOUT")]
    [InlineData("TOKENIZER_MODEL")]
    [InlineData("PORT")]
    [InlineData("ASPNETCORE_ENVIRONMENT")]
    [InlineData("OLDPWD")]
    [InlineData("PATHEXT")]
    [InlineData("FIREWALL_BYPASS")]
    [InlineData("COMPASS_URL")]
    [InlineData("PASSENGER_COUNT")]
    public void IsSecretName_OrdinaryNames_AreShown(string name)
    {
        Assert.False(SecretMask.IsSecretName(name));
        Assert.Equal("value", SecretMask.Value(name, "value"));
    }

    [Fact]
    public void Value_UrlWithPassword_MasksOnlyThePassword()
    {
        Assert.Equal("postgres://app:********@db:5432/shop", SecretMask.Value("DATABASE_URL", "postgres://app:s3cr3t@db:5432/shop"));
        Assert.Equal("redis://cache:6379", SecretMask.Value("REDIS_URL", "redis://cache:6379"));
        Assert.Equal("a=http://u:********@h/x b=https://v:********@k", SecretMask.Value("MIRRORS", "a=http://u:p@h/x b=https://v:q@k"));
        Assert.Equal("", SecretMask.Value("DB_PASSWORD", ""));
    }

    [Theory]
    [InlineData("postgres://app:s3cr3t@db:5432/shop", "postgres://app:********@db:5432/shop")]
    [InlineData("redis://:pw@cache:6379/0", "redis://:********@cache:6379/0")]
    [InlineData("amqp://u:pa/ss@mq/vhost", "amqp://u:********@mq/vhost")]
    [InlineData("amqp://u:pa#ss@mq", "amqp://u:********@mq")]
    [InlineData("amqp://u:pa?ss@mq", "amqp://u:********@mq")]
    [InlineData("amqp://u:p@ss@mq:5672", "amqp://u:********@mq:5672")]
    [InlineData("http://probeuser:s3cr3t@127.0.0.1:28501/", "http://probeuser:********@127.0.0.1:28501/")]
    [InlineData("http http://u:pw@h/ready failing: 503", "http http://u:********@h/ready failing: 503")]
    [InlineData("url='mysql://root:xy@h' next", "url='mysql://root:********@h' next")]
    [InlineData("http://host/path@v2:x", "http://host/path@v2:x")]
    [InlineData("http://user@host/", "http://user@host/")]
    [InlineData("http://@host/", "http://@host/")]
    [InlineData("see http://h/a and ftp://u:p@f/b", "see http://h/a and ftp://u:********@f/b")]
    [InlineData("no url here: a:b@c", "no url here: a:b@c")]
    [InlineData("http://u:********@h", "http://u:********@h")]
    public void MaskUrlPassword_ParsesTheUserinfo(string text, string expected) =>
        Assert.Equal(expected, SecretMask.MaskUrlPassword(text));
}
