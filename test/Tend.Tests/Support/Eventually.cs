namespace Tend.Tests.Support;

/// <summary>Polling with a deadline: the only way tests wait for real processes. Deadlines are generous; they fail a test, never time it.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        T? last = default;
        while (DateTime.UtcNow < deadline)
        {
            last = await probe();
            if (done(last)) return last;
            await Task.Delay(50);
        }
        throw new TimeoutException($"timed out waiting for {what}; last seen: {Describe(last)}");
    }

    public static Task<T> ReturnsAsync<T>(Func<T> probe, Func<T, bool> done, string what, TimeSpan? timeout = null) =>
        ReturnsAsync(() => Task.FromResult(probe()), done, what, timeout);

    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        await ReturnsAsync(() => Task.FromResult(condition()), ok => ok, what, timeout);

    private static string Describe(object? value) => value switch
    {
        null => "null",
        System.Collections.IEnumerable e and not string => "[" + string.Join(", ", e.Cast<object?>().Select(x => x?.ToString())) + "]",
        _ => value.ToString() ?? "",
    };
}
