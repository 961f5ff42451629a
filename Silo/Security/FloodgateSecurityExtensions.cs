using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Floodgate.Silo.Security;

/// <summary>
/// One authentication path for every way into the silo over HTTP: the <c>ApiKey</c> scheme and the client and admin
/// policies. An endpoint opts in with <c>.RequireApiKey(ApiRole.Client)</c> (or <c>.RequireAuthorization(FloodgatePolicies.Client)</c>).
/// </summary>
internal static class FloodgateSecurityExtensions
{
    public static IServiceCollection AddFloodgateSecurity(this IServiceCollection services)
    {
        services.TryAddSingleton<ApiKeyRing>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, ApiKeyRoleHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ApiKeyAuthorizationResultHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(FloodgatePolicies.Client, policy => Require(policy, ApiRole.Client))
            .AddPolicy(FloodgatePolicies.Admin, policy => Require(policy, ApiRole.Admin));
        return services;
    }

    private static void Require(AuthorizationPolicyBuilder policy, ApiRole role) =>
        policy.AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName).AddRequirements(new ApiKeyRoleRequirement(role));
}
