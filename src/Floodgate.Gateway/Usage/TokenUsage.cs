namespace Floodgate.Gateway.Usage;

/// <summary>An OpenAI response's <c>usage</c>: tokens of the prompt and of the completion.</summary>
internal sealed record TokenUsage(int PromptTokens, int CompletionTokens, int TotalTokens);
