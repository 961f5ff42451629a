using System.Collections;
using System.ComponentModel;
using System.Reflection;

namespace Floodgate.Silo.Hosting;

/// <summary>
/// Finds configuration keys no options class binds (a typo like <c>Floodgate:Items:AtemptTimeout</c> would otherwise be
/// ignored and the default used silently). Read from the options types themselves, so a new property is known at once.
/// </summary>
public static class ConfigurationKeys
{
    /// <summary>
    /// Every key under <paramref name="root"/> (e.g. <c>Floodgate</c>) that matches no property of the options type bound
    /// at its section in <paramref name="sections"/> (section path → options type), nor any section; one message each.
    /// Children of dictionaries and lists are free (<c>Limiters:Limits:{name}</c>).
    /// </summary>
    public static IReadOnlyList<string> FindUnknown(IConfiguration configuration, string root, IReadOnlyDictionary<string, Type> sections)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(sections);
        var problems = new List<string>();
        CheckSectionTree(configuration.GetSection(root), sections, problems);
        return problems;
    }

    /// <summary>A section that is not itself bound: its children must be bound sections or lead to one (<c>Floodgate:Processors</c>).</summary>
    private static void CheckSectionTree(IConfigurationSection section, IReadOnlyDictionary<string, Type> sections, List<string> problems)
    {
        var prefix = section.Path + ConfigurationPath.KeyDelimiter;
        var known = sections.Keys
            .Where(path => path.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(path => path[prefix.Length..].Split(ConfigurationPath.KeyDelimiter)[0])
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .ToList();
        foreach (var child in section.GetChildren())
        {
            var type = sections.FirstOrDefault(s => string.Equals(s.Key, child.Path, StringComparison.OrdinalIgnoreCase)).Value;
            if (type is not null)
            {
                CheckObject(child, type, problems);
            }
            else if (known.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                CheckSectionTree(child, sections, problems);
            }
            else
            {
                problems.Add(Unknown(child.Path, section.Path, known));
            }
        }
    }

    private static void CheckObject(IConfigurationSection section, Type type, List<string> problems)
    {
        var properties = BindableProperties(type);
        if (section.Value is { Length: > 0 })
        {
            // The binder ignores a value given to a section: Silo:WarmUp=false would leave the warm-up on, silently.
            problems.Add($"error: '{section.Path}' is a section, not a single value (known under it: {string.Join(", ", properties.Select(p => p.Name))})");
        }

        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                problems.Add(Unknown(child.Path, section.Path, properties.Select(p => p.Name)));
                continue;
            }

            CheckValue(child, property.PropertyType, problems, inCollection: false);
        }
    }

    private static void CheckValue(IConfigurationSection section, Type type, List<string> problems, bool inCollection)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (IsScalar(type))
        {
            // The binder drops an entry of a dictionary or list whose value does not convert, silently; elsewhere it throws.
            if (inCollection && section.Value is { Length: > 0 } raw && type != typeof(string) && type != typeof(object) && !Converts(raw, type))
            {
                problems.Add($"error: invalid configuration: the value of '{section.Path}' is not a valid {FriendlyName(type)}");
            }

            // A scalar has no children: Items:AttemptTimeout:Seconds is a mistake, not a nested setting.
            foreach (var child in section.GetChildren())
            {
                problems.Add($"error: unknown configuration key '{child.Path}' ({section.Path} is a single {FriendlyName(type)} value)");
            }

            return;
        }

        if (ElementType(type) is { } element)
        {
            // Dictionary keys and list indexes are data, not setting names; only their values have a shape.
            foreach (var child in section.GetChildren())
            {
                CheckValue(child, element, problems, inCollection: true);
            }

            return;
        }

        if (inCollection)
        {
            // An object inside a dictionary or list: its properties are dropped the same way when they do not convert.
            var properties = BindableProperties(type);
            foreach (var child in section.GetChildren())
            {
                if (properties.FirstOrDefault(p => string.Equals(p.Name, child.Key, StringComparison.OrdinalIgnoreCase)) is { } property && IsScalar(property.PropertyType))
                {
                    CheckValue(child, property.PropertyType, problems, inCollection: true);
                }
            }
        }

        CheckObject(section, type, problems);
    }

    private static bool Converts(string raw, Type type)
    {
        try
        {
            return TypeDescriptor.GetConverter(type).ConvertFromInvariantString(raw) is not null;
        }
        catch (Exception)
        {
            return false; // Converters throw FormatException, ArgumentException or OverflowException, depending on the type.
        }
    }

    /// <summary>Public instance properties the binder writes: settable ones, and read-only collections it fills in place.</summary>
    private static List<PropertyInfo> BindableProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0
                && (p.SetMethod is { IsPublic: true } || (p.GetMethod is { IsPublic: true } && !IsScalar(p.PropertyType))))
            .ToList();

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type == typeof(string) || type.IsPrimitive || type.IsEnum || type == typeof(object)
            || TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));
    }

    /// <summary>The value type of a dictionary, or the element type of an array or list; null for other types.</summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var dictionary = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType
            && (i.GetGenericTypeDefinition() == typeof(IDictionary<,>) || i.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>)));
        if (dictionary is not null)
        {
            return dictionary.GetGenericArguments()[1];
        }

        var enumerable = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0] ?? (typeof(IEnumerable).IsAssignableFrom(type) ? typeof(object) : null);
    }

    private static string Unknown(string key, string parent, IEnumerable<string> known)
    {
        var names = string.Join(", ", known);
        return names.Length == 0
            ? $"error: unknown configuration key '{key}' (nothing is configured under {parent})"
            : $"error: unknown configuration key '{key}' (known under {parent}: {names})";
    }

    private static string FriendlyName(Type type) => type == typeof(TimeSpan) ? "TimeSpan (hh:mm:ss)" : type.Name;
}
