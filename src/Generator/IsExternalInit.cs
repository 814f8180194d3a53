// netstandard2.0 lacks the type that init-only setters (and so records) need; the compiler only looks for its name.
namespace System.Runtime.CompilerServices;

internal static class IsExternalInit
{
}
