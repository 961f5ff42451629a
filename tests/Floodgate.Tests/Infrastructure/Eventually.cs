namespace Floodgate.Tests.Infrastructure;

/// <summary>Polls until a condition holds (never asserts on how long that took; gives up after a generous bound).</summary>
public static class Eventually
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/>; with <paramref name="tolerateErrors"/>, calls failing during a failover count as "not yet".</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, bool tolerateErrors = false)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception ex) when (tolerateErrors && ex is not Xunit.Sdk.XunitException)
            {
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"The condition did not hold within {Limit.TotalSeconds} s.");
    }

    /// <summary>Polls a synchronous <paramref name="condition"/> until it holds or <paramref name="cancellationToken"/> fires.</summary>
    public static async Task TrueAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(50, cancellationToken);
        }
    }
}
