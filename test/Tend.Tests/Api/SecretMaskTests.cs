using Tend.Api;

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
}
