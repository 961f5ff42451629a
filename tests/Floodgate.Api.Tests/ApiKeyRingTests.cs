using Floodgate.Silo.Api;
using Floodgate.Silo.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Floodgate.Api.Tests;

public sealed class ApiKeyRingTests
{
    private const string ClientKey = "client-key-0123456789";
    private const string AdminKey = "admin-key-0123456789";

    [Theory]
    [InlineData("Client", ClientKey, "Allowed")]
    [InlineData("Client", AdminKey, "Allowed")]
    [InlineData("Client", null, "Missing")]
    [InlineData("Client", "client-key-012345678", "Unrecognised")]
    [InlineData("Admin", AdminKey, "Allowed")]
    [InlineData("Admin", ClientKey, "NotAdmin")]
    [InlineData("Admin", null, "Missing")]
    [InlineData("Admin", "", "Unrecognised")]
    public void Authorize_BothListsConfigured_DecidesByRole(string role, string? key, string expected)
    {
        var ring = CreateSut(clientKeys: [ClientKey], adminKeys: [AdminKey]);

        Assert.Equal(Enum.Parse<ApiKeyDecision>(expected), ring.Authorize(key, Enum.Parse<ApiRole>(role)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("any-key-at-all-0000")]
    public void Authorize_NoClientKeysConfigured_OpensClientEndpoints(string? key)
    {
        var ring = CreateSut(clientKeys: [], adminKeys: [AdminKey]);

        Assert.Equal(ApiKeyDecision.Allowed, ring.Authorize(key, ApiRole.Client));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(ClientKey)]
    public void Authorize_NoAdminKeysConfigured_RefusesAdminEndpoints(string? key)
    {
        var ring = CreateSut(clientKeys: [ClientKey], adminKeys: []);

        Assert.Equal(ApiKeyDecision.NoAdminKeyConfigured, ring.Authorize(key, ApiRole.Admin));
    }

    [Theory]
    [InlineData("X-Api-Key", ClientKey, ClientKey)]
    [InlineData("Authorization", "Bearer " + ClientKey, ClientKey)]
    [InlineData("Authorization", "bearer  " + ClientKey, ClientKey)]
    [InlineData("Authorization", "Basic abc", "Basic abc")]
    public void PresentedKey_Header_ReadsTheKey(string header, string value, string expected)
    {
        var headers = new HeaderDictionary { [header] = value };

        Assert.Equal(expected, ApiKeyRing.PresentedKey(headers));
    }

    [Fact]
    public void PresentedKey_TwoValues_IsNoUsableKey()
    {
        var headers = new HeaderDictionary { ["X-Api-Key"] = new(["a", "b"]) };

        Assert.Equal(string.Empty, ApiKeyRing.PresentedKey(headers));
    }

    [Fact]
    public void PresentedKey_NoHeader_IsNull() =>
        Assert.Null(ApiKeyRing.PresentedKey(new HeaderDictionary()));

    [Theory]
    [InlineData("ClientKeys", "short", "Floodgate:Api:ClientKeys:0 must be at least 16 characters")]
    [InlineData("AdminKeys", "has a space in it, long enough", "Floodgate:Api:AdminKeys:0 may contain only printable ASCII")]
    [InlineData("AdminKeys", "nön-ascii-key-long-enough", "Floodgate:Api:AdminKeys:0 may contain only printable ASCII")]
    public void Validate_BadKey_FailsNamingTheSettingNotTheKey(string list, string key, string expected)
    {
        var options = list == "ClientKeys" ? new ApiOptions { ClientKeys = [key] } : new ApiOptions { AdminKeys = [key] };

        var result = new ApiOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain(key, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DuplicateWithinOneList_Fails()
    {
        var result = new ApiOptionsValidator().Validate(null, new ApiOptions { ClientKeys = [ClientKey, ClientKey] });

        Assert.Contains(result.Failures!, f => f.Contains("Floodgate:Api:ClientKeys:1 duplicates Floodgate:Api:ClientKeys:0", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NoKeys_Succeeds() =>
        Assert.True(new ApiOptionsValidator().Validate(null, new ApiOptions()).Succeeded);

    private static ApiKeyRing CreateSut(List<string> clientKeys, List<string> adminKeys) =>
        new(Options.Create(new ApiOptions { ClientKeys = clientKeys, AdminKeys = adminKeys }));
}
