using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Floodgate.Silo.Security;

/// <summary>The authorization policies of the silo's endpoints; attach one with <see cref="ApiKeyEndpointExtensions"/>.</summary>
internal static class FloodgatePolicies
{
    /// <summary>A client or admin key; open when no client key is configured.</summary>
    public const string Client = "floodgate-client";

    /// <summary>An admin key; refused to everybody when no admin key is configured.</summary>
    public const string Admin = "floodgate-admin";

    public static string For(ApiRole role) => role == ApiRole.Admin ? Admin : Client;
}

/// <summary>The requirement behind each policy: the caller's key opens <see cref="Role"/>.</summary>
internal sealed record ApiKeyRoleRequirement(ApiRole Role) : IAuthorizationRequirement;

/// <summary>
/// Applies <see cref="ApiKeyRing.Decide"/> to the signed-in caller. A refusal that no key of the caller's could cure (a
/// client key on an admin endpoint, no admin key configured) fails with its reason; a missing or unknown key leaves the
/// requirement unmet, which is answered with a challenge (401).
/// </summary>
internal sealed class ApiKeyRoleHandler(ApiKeyRing keys) : AuthorizationHandler<ApiKeyRoleRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ApiKeyRoleRequirement requirement)
    {
        ApiRole? caller = context.User.IsInRole(ApiKeyAuthenticationHandler.RoleName(ApiRole.Admin)) ? ApiRole.Admin
            : context.User.IsInRole(ApiKeyAuthenticationHandler.RoleName(ApiRole.Client)) ? ApiRole.Client
            : null;
        // Missing and unknown keys (both: no caller role) are told apart by the challenge, not here.
        var decision = keys.Decide(requirement.Role, caller, keySent: caller is not null);
        if (decision == ApiKeyDecision.Allowed)
        {
            context.Succeed(requirement);
        }
        else if (decision is ApiKeyDecision.NoAdminKeyConfigured or ApiKeyDecision.NotAdmin)
        {
            context.Fail(new AuthorizationFailureReason(this, ApiKeyMessages.For(decision)));

            // The policy evaluator keeps failure reasons only for signed-in callers; a caller without a key must hear
            // "no admin key is configured" (403) too, not "send a key" (401).
            if (context.Resource is HttpContext http)
            {
                http.Items[ApiKeyAuthenticationHandler.RefusalItem] = decision;
            }
        }

        return Task.CompletedTask;
    }
}

/// <summary>
/// Turns a failed policy into the API's answers: a refusal with a reason from <see cref="ApiKeyRoleHandler"/> is a 403
/// carrying that reason (whether or not a key was sent); otherwise the default (a 401 challenge).
/// </summary>
internal sealed class ApiKeyAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded || context.Items[ApiKeyAuthenticationHandler.RefusalItem] is not ApiKeyDecision refusal)
        {
            return _default.HandleAsync(next, context, policy, authorizeResult);
        }

        var properties = new AuthenticationProperties();
        properties.Items[ApiKeyAuthenticationHandler.RefusalItem] = refusal.ToString();
        return context.ForbidAsync(ApiKeyAuthenticationHandler.SchemeName, properties);
    }
}

/// <summary>Attaching a key requirement to endpoints: the API, the dashboard, <c>/metrics</c>, and any page added later.</summary>
internal static class ApiKeyEndpointExtensions
{
    /// <summary>Requires a key of <paramref name="role"/> (see <see cref="FloodgatePolicies"/>).</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder, ApiRole role)
        where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(FloodgatePolicies.For(role));
}
