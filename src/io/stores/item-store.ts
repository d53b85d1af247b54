/** One thing the studio keeps, with its size, as the Storage tab lists it. */
export interface StoredItem {
  id: string;
  name: string;
  bytes: number;
}

/** A store of items that can be listed with sizes and deleted (the OPFS models cache, a kv database). */
export interface ItemStore {
  list(): Promise<StoredItem[]>;
  remove(id: string): Promise<void>;
}
