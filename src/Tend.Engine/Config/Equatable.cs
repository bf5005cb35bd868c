using System.Collections;
using System.Collections.Immutable;

namespace Tend.Config;

/// <summary>An immutable array with value equality, so records holding it compare by content.</summary>
public readonly struct EquatableArray<T> : IEquatable<EquatableArray<T>>, IReadOnlyList<T>
{
    private readonly ImmutableArray<T> _items;

    public EquatableArray(IEnumerable<T> items) => _items = [.. items];

    public static EquatableArray<T> Empty => new([]);

    public int Count => _items.IsDefault ? 0 : _items.Length;
    public T this[int index] => _items[index];

    public bool Equals(EquatableArray<T> other) => this.SequenceEqual(other);
    public override bool Equals(object? obj) => obj is EquatableArray<T> other && Equals(other);
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var item in this) hash.Add(item);
        return hash.ToHashCode();
    }

    public IEnumerator<T> GetEnumerator() => (_items.IsDefault ? [] : _items).AsEnumerable().GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public static bool operator ==(EquatableArray<T> left, EquatableArray<T> right) => left.Equals(right);
    public static bool operator !=(EquatableArray<T> left, EquatableArray<T> right) => !left.Equals(right);
    public static implicit operator EquatableArray<T>(T[] items) => new(items);
    public static implicit operator EquatableArray<T>(List<T> items) => new(items);
}

/// <summary>An immutable, ordinal-keyed string map with value equality.</summary>
public sealed class EquatableDictionary : IReadOnlyDictionary<string, string>, IEquatable<EquatableDictionary>
{
    private readonly ImmutableSortedDictionary<string, string> _map;

    public EquatableDictionary(IEnumerable<KeyValuePair<string, string>> items) =>
        _map = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, items);

    public static EquatableDictionary Empty { get; } = new([]);

    public string this[string key] => _map[key];
    public IEnumerable<string> Keys => _map.Keys;
    public IEnumerable<string> Values => _map.Values;
    public int Count => _map.Count;
    public bool ContainsKey(string key) => _map.ContainsKey(key);
    public bool TryGetValue(string key, out string value) => _map.TryGetValue(key, out value!);
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _map.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(EquatableDictionary? other) => other is not null && _map.SequenceEqual(other._map);
    public override bool Equals(object? obj) => Equals(obj as EquatableDictionary);
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (k, v) in _map) { hash.Add(k); hash.Add(v); }
        return hash.ToHashCode();
    }
}
