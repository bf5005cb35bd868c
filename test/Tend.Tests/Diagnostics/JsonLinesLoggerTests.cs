using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tend.Api;
using Tend.Diagnostics;
using Tend.Security;

namespace Tend.Tests.Diagnostics;

public sealed partial class JsonLinesLoggerTests
{
    [LoggerMessage(9001, LogLevel.Warning, "connecting with {ApiToken} to {Target}")]
    private static partial void Connecting(ILogger logger, string apiToken, string target);

    private static JsonElement LogOne(Action<ILogger> log)
    {
        var output = new MemoryStream();
        using (var factory = new JsonLinesLoggerFactory(output))
            log(factory.CreateLogger("test"));
        string line = Encoding.UTF8.GetString(output.ToArray()).Trim();
        return JsonDocument.Parse(line).RootElement;
    }

    [Fact]
    public void Write_SecretNamedField_MaskedInFieldAndMessage()
    {
        JsonElement e = LogOne(l => Connecting(l, "tok-123456", "db"));

        Assert.Equal(SecretMask.Mask, e.GetProperty("api_token").GetString());
        Assert.Equal($"connecting with {SecretMask.Mask} to db", e.GetProperty("message").GetString());
        Assert.Equal("db", e.GetProperty("target").GetString());
    }

    [Fact]
    public void Write_UrlWithPassword_MaskedInFieldMessageAndException()
    {
        const string url = "postgres://app:s3cr3t@db/shop";
        JsonElement e = LogOne(l => Connecting(l, "", url));
        Assert.Equal("postgres://app:********@db/shop", e.GetProperty("target").GetString());
        Assert.DoesNotContain("s3cr3t", e.GetProperty("message").GetString());

        JsonElement failed = LogOne(l => l.LogError(new InvalidOperationException("cannot reach " + url), "probe failed"));
        Assert.DoesNotContain("s3cr3t", failed.GetProperty("exception").GetString());
    }
}
