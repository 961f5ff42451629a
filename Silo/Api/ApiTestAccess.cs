using System.Runtime.CompilerServices;

// The API's key ring and problem mapping are internal; their tests exercise them directly, beside the HTTP tests.
[assembly: InternalsVisibleTo("Floodgate.Api.Tests")]
